/**
 * CPython's type-slot knowledge as data. Read from CPython 3.11.2 and 3.13.5:
 * `Include/cpython/object.h` (struct _typeobject and the Py*Methods structs, positional field
 * order), `Include/typeslots.h` (`Py_tp_*` spec slot ids: the id name is `Py_` + slot name) and
 * `Objects/typeobject.c` (`slotdefs[]`: which dunders each slot provides, in CPython's order).
 * Pure data, no I/O.
 */

/** Positional field order of a static `PyTypeObject` initialiser. The first element is
 *  `PyVarObject_HEAD_INIT(...)` (field `ob_base`). 3.13 appends `tp_watched`, `tp_versions_used`. */
export const TYPE_OBJECT_FIELDS: readonly string[] = [
  'ob_base', 'tp_name', 'tp_basicsize', 'tp_itemsize', 'tp_dealloc', 'tp_vectorcall_offset',
  'tp_getattr', 'tp_setattr', 'tp_as_async', 'tp_repr', 'tp_as_number', 'tp_as_sequence',
  'tp_as_mapping', 'tp_hash', 'tp_call', 'tp_str', 'tp_getattro', 'tp_setattro', 'tp_as_buffer',
  'tp_flags', 'tp_doc', 'tp_traverse', 'tp_clear', 'tp_richcompare', 'tp_weaklistoffset',
  'tp_iter', 'tp_iternext', 'tp_methods', 'tp_members', 'tp_getset', 'tp_base', 'tp_dict',
  'tp_descr_get', 'tp_descr_set', 'tp_dictoffset', 'tp_init', 'tp_alloc', 'tp_new', 'tp_free',
  'tp_is_gc', 'tp_bases', 'tp_mro', 'tp_cache', 'tp_subclasses', 'tp_weaklist', 'tp_del',
  'tp_version_tag', 'tp_finalize', 'tp_vectorcall', 'tp_watched', 'tp_versions_used',
];

export const NUMBER_METHODS_FIELDS: readonly string[] = [
  'nb_add', 'nb_subtract', 'nb_multiply', 'nb_remainder', 'nb_divmod', 'nb_power', 'nb_negative',
  'nb_positive', 'nb_absolute', 'nb_bool', 'nb_invert', 'nb_lshift', 'nb_rshift', 'nb_and',
  'nb_xor', 'nb_or', 'nb_int', 'nb_reserved', 'nb_float', 'nb_inplace_add', 'nb_inplace_subtract',
  'nb_inplace_multiply', 'nb_inplace_remainder', 'nb_inplace_power', 'nb_inplace_lshift',
  'nb_inplace_rshift', 'nb_inplace_and', 'nb_inplace_xor', 'nb_inplace_or', 'nb_floor_divide',
  'nb_true_divide', 'nb_inplace_floor_divide', 'nb_inplace_true_divide', 'nb_index',
  'nb_matrix_multiply', 'nb_inplace_matrix_multiply',
];

export const SEQUENCE_METHODS_FIELDS: readonly string[] = [
  'sq_length', 'sq_concat', 'sq_repeat', 'sq_item', 'was_sq_slice', 'sq_ass_item',
  'was_sq_ass_slice', 'sq_contains', 'sq_inplace_concat', 'sq_inplace_repeat',
];

export const MAPPING_METHODS_FIELDS: readonly string[] = ['mp_length', 'mp_subscript', 'mp_ass_subscript'];

export const ASYNC_METHODS_FIELDS: readonly string[] = ['am_await', 'am_aiter', 'am_anext', 'am_send'];

export const BUFFER_PROCS_FIELDS: readonly string[] = ['bf_getbuffer', 'bf_releasebuffer'];

/** Sub-struct type name -> positional field order. */
export const SUB_STRUCT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  PyNumberMethods: NUMBER_METHODS_FIELDS,
  PySequenceMethods: SEQUENCE_METHODS_FIELDS,
  PyMappingMethods: MAPPING_METHODS_FIELDS,
  PyAsyncMethods: ASYNC_METHODS_FIELDS,
  PyBufferProcs: BUFFER_PROCS_FIELDS,
};

/** `PyTypeObject` fields that point at a sub-struct. */
export const SUB_STRUCT_POINTERS: readonly string[] = [
  'tp_as_async', 'tp_as_number', 'tp_as_sequence', 'tp_as_mapping', 'tp_as_buffer',
];

export const MODULE_DEF_FIELDS: readonly string[] = [
  'm_base', 'm_name', 'm_doc', 'm_size', 'm_methods', 'm_slots', 'm_traverse', 'm_clear', 'm_free',
];
export const TYPE_SPEC_FIELDS: readonly string[] = ['name', 'basicsize', 'itemsize', 'flags', 'slots'];
export const METHOD_DEF_FIELDS: readonly string[] = ['ml_name', 'ml_meth', 'ml_flags', 'ml_doc'];
export const GETSET_DEF_FIELDS: readonly string[] = ['name', 'get', 'set', 'doc', 'closure'];
export const MEMBER_DEF_FIELDS: readonly string[] = ['name', 'type', 'offset', 'flags', 'doc'];

/**
 * slot -> the dunders it provides, in the order of `slotdefs[]` in Objects/typeobject.c
 * (3.11 and 3.13 agree except the buffer slots, which provide `__buffer__` and
 * `__release_buffer__` from 3.12 on). When two slots give one dunder (`mp_length` and
 * `sq_length` -> `__len__`), the earlier entry in SLOT_ORDER wins, as in CPython.
 */
export const SLOT_DUNDERS: Readonly<Record<string, readonly string[]>> = {
  tp_getattr: ['__getattribute__', '__getattr__'],
  tp_setattr: ['__setattr__', '__delattr__'],
  tp_repr: ['__repr__'],
  tp_hash: ['__hash__'],
  tp_call: ['__call__'],
  tp_str: ['__str__'],
  tp_getattro: ['__getattribute__', '__getattr__'],
  tp_setattro: ['__setattr__', '__delattr__'],
  tp_richcompare: ['__lt__', '__le__', '__eq__', '__ne__', '__gt__', '__ge__'],
  tp_iter: ['__iter__'],
  tp_iternext: ['__next__'],
  tp_descr_get: ['__get__'],
  tp_descr_set: ['__set__', '__delete__'],
  tp_init: ['__init__'],
  tp_new: ['__new__'],
  tp_finalize: ['__del__'],
  bf_getbuffer: ['__buffer__'],
  bf_releasebuffer: ['__release_buffer__'],
  am_await: ['__await__'],
  am_aiter: ['__aiter__'],
  am_anext: ['__anext__'],
  nb_add: ['__add__', '__radd__'],
  nb_subtract: ['__sub__', '__rsub__'],
  nb_multiply: ['__mul__', '__rmul__'],
  nb_remainder: ['__mod__', '__rmod__'],
  nb_divmod: ['__divmod__', '__rdivmod__'],
  nb_power: ['__pow__', '__rpow__'],
  nb_negative: ['__neg__'],
  nb_positive: ['__pos__'],
  nb_absolute: ['__abs__'],
  nb_bool: ['__bool__'],
  nb_invert: ['__invert__'],
  nb_lshift: ['__lshift__', '__rlshift__'],
  nb_rshift: ['__rshift__', '__rrshift__'],
  nb_and: ['__and__', '__rand__'],
  nb_xor: ['__xor__', '__rxor__'],
  nb_or: ['__or__', '__ror__'],
  nb_int: ['__int__'],
  nb_float: ['__float__'],
  nb_inplace_add: ['__iadd__'],
  nb_inplace_subtract: ['__isub__'],
  nb_inplace_multiply: ['__imul__'],
  nb_inplace_remainder: ['__imod__'],
  nb_inplace_power: ['__ipow__'],
  nb_inplace_lshift: ['__ilshift__'],
  nb_inplace_rshift: ['__irshift__'],
  nb_inplace_and: ['__iand__'],
  nb_inplace_xor: ['__ixor__'],
  nb_inplace_or: ['__ior__'],
  nb_floor_divide: ['__floordiv__', '__rfloordiv__'],
  nb_true_divide: ['__truediv__', '__rtruediv__'],
  nb_inplace_floor_divide: ['__ifloordiv__'],
  nb_inplace_true_divide: ['__itruediv__'],
  nb_index: ['__index__'],
  nb_matrix_multiply: ['__matmul__', '__rmatmul__'],
  nb_inplace_matrix_multiply: ['__imatmul__'],
  mp_length: ['__len__'],
  mp_subscript: ['__getitem__'],
  mp_ass_subscript: ['__setitem__', '__delitem__'],
  sq_length: ['__len__'],
  sq_concat: ['__add__'],
  sq_repeat: ['__mul__', '__rmul__'],
  sq_item: ['__getitem__'],
  sq_ass_item: ['__setitem__', '__delitem__'],
  sq_contains: ['__contains__'],
  sq_inplace_concat: ['__iadd__'],
  sq_inplace_repeat: ['__imul__'],
};

/** Slots in slotdefs[] order (earlier wins when two slots provide one dunder). */
export const SLOT_ORDER: readonly string[] = Object.keys(SLOT_DUNDERS);

/** Slots whose dunder is a constructor. */
export const CONSTRUCTOR_SLOTS: ReadonlySet<string> = new Set(['tp_new', 'tp_init']);

/** Values of a slot that give the type no Python attribute of its own (`__hash__` set to
 *  PyObject_HashNotImplemented is None; the allocators are not dunders). A slot filled with
 *  PyObject_GenericGetAttr does give one (`list.__getattribute__` in `list.__dict__`). */
export const GENERIC_SLOT_FUNCTIONS: ReadonlySet<string> = new Set([
  'PyObject_HashNotImplemented',
  'PyType_GenericAlloc', 'PyObject_GC_Del', 'PyObject_Del', 'PyObject_Free', 'NULL', '0',
]);

/** `Py_nb_add` -> `nb_add` (Include/typeslots.h: every id is `Py_` + the slot's field name),
 *  undefined for an id that is not a slot. */
export function specSlotName(id: string): string | undefined {
  const m = /^Py_((?:tp|nb|sq|mp|am|bf)_\w+)$/.exec(id.trim());
  return m ? m[1] : undefined;
}
