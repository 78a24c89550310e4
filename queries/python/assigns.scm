; `name = other` / `name = mod.attr` / `name = a or b` / `name = a if a else b`: a module-level name bound to another name (the linker
; keeps the module-level ones whose value is a plain dotted name). Scope is decided in code.
(expression_statement (assignment left: (identifier) @name right: [(identifier) (attribute) (boolean_operator) (parenthesized_expression) (conditional_expression)] @value) @assignment) @statement
