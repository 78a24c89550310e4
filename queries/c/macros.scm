; Object-like and function-like #defines (MODNAME values, X_METHODDEF, token-pasting generators).
(preproc_def name: (identifier) @name value: (preproc_arg)? @value) @definition.macro

(preproc_function_def
  name: (identifier) @name
  parameters: (preproc_params) @params
  value: (preproc_arg)? @value) @definition.macro

; #include "local.h" (system includes are not followed).
(preproc_include path: (string_literal) @path) @include
