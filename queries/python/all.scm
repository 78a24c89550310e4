; Writes to a module's `__all__`: `__all__ = [...]`, `__all__ += [...]`,
; `__all__.extend([...])`, `__all__.append("x")`. Literal values only are kept (in code).
(assignment left: (identifier) @name right: (_) @value (#eq? @name "__all__")) @all.assign
(augmented_assignment left: (identifier) @name right: (_) @value (#eq? @name "__all__")) @all.augment
(call
  function: (attribute object: (identifier) @name attribute: (identifier) @method)
  arguments: (argument_list . (_) @value .)
  (#eq? @name "__all__")
  (#match? @method "^(extend|append)$")) @all.call
