; C function definitions: the identifier naming the function (through pointer declarators),
; so a target's line is the line of the NAME, not of the return type.
(function_definition
  declarator: [
    (function_declarator declarator: (identifier) @name)
    (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))
    (pointer_declarator
      declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name)))
  ]) @definition.function

; Inside an ERROR node (tree-sitter's recovery from macro soup elsewhere in the file), a
; definition shows as a declarator followed by the body's "{".
(ERROR
  (function_declarator declarator: (identifier) @name)
  .
  "{") @definition.function
(ERROR
  (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))
  .
  "{") @definition.function
