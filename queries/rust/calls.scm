; Calls that build modules at run time: `m.add_function(..)`, `m.add_class::<T>()`,
; `m.add_submodule(..)`, `m.add("NAME", ..)`, helper calls taking a module, `PyModule::new(..)`,
; `ClassDef::new(c"mod.Name")`, `PyType::new_exception(ts, c"mod.error", ..)`.
(call_expression
  function: (field_expression value: (_) @recv field: (field_identifier) @method)
  arguments: (arguments) @args) @call.method
(call_expression
  function: (generic_function
    function: (field_expression value: (_) @recv field: (field_identifier) @method)
    type_arguments: (type_arguments) @targs)
  arguments: (arguments) @args) @call.method
(call_expression
  function: [(identifier) (scoped_identifier)] @fn
  arguments: (arguments) @args) @call.plain
(let_declaration pattern: (identifier) @var value: (_) @value) @let
(let_declaration pattern: (ref_pattern (identifier) @var) value: (_) @value) @let
