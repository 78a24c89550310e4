; Rust items that can carry PyO3 / cpython-api meaning. Attributes are the items' preceding
; `attribute_item` siblings, collected in code (queries cannot anchor "all preceding siblings").
(function_item name: (identifier) @name) @item.fn
(struct_item name: (type_identifier) @name) @item.struct
(enum_item name: (type_identifier) @name) @item.enum
(impl_item type: (_) @name) @item.impl
(mod_item name: (identifier) @name) @item.mod
(use_declaration argument: (_) @name) @item.use
(static_item name: (identifier) @name) @item.static
(const_item name: (identifier) @name) @item.const
(macro_invocation macro: (_) @name) @item.macro
(type_item name: (type_identifier) @name) @item.type
