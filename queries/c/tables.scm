; Initialised declarations: PyMethodDef/PyGetSetDef/PyMemberDef tables, PyTypeObject,
; PyType_Spec/PyType_Slot, Py*Methods, PyModuleDef. The initialiser's contents are read by a
; token scanner (macro soup such as `PyVarObject_HEAD_INIT(...)` or `X_METHODDEF` without commas).
(declaration
  type: (_) @type
  declarator: (init_declarator
    declarator: (_) @declarator
    value: (initializer_list) @value)) @definition.table

; Inside an ERROR node the declaration's type is a preceding sibling (found by the extractor);
; the initialiser is re-read from the text, since recovery may have cut it short.
(ERROR
  (init_declarator
    declarator: (_) @declarator
    value: (initializer_list) @value)) @definition.table
