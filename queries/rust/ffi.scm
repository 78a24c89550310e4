; Raw C-API tables written as Rust struct literals: `PyMethodDef { ml_name: c"f", ml_meth: .. }`
; and `PyModuleDef { m_name: c"mod", m_methods: .. }`.
(struct_expression
  name: [(type_identifier) (scoped_type_identifier)] @type
  body: (field_initializer_list) @fields) @struct
