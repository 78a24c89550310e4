; Every import statement; `from __future__ import ...` is a different node and is not captured.
(import_statement) @import
(import_from_statement) @import.from
