; Python definitions, in the grammars' tags.scm convention. Scope (module level, method of a
; module-level class, or local to a function) is decided in code from the node's ancestors.
(function_definition name: (identifier) @name) @definition.function
(class_definition name: (identifier) @name) @definition.class
