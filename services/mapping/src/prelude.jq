# Definitions loaded after jaq's standard library, so they take precedence. Each one brings a
# builtin closer to what jq does, where mappings would otherwise produce different payloads.

# jq: null elements join as "", numbers and booleans as their JSON text; jaq would write "null".
def join($sep): reduce .[] as $x (null;
  (if . == null then "" else . + $sep end)
  + ($x | if . == null then "" elif type == "boolean" or type == "number" then tojson else . end)
) // "";

# jq accepts key/k/name/Name/K/Key and value/v/Value, and non-string keys become strings.
def from_entries: reduce .[] as $x ({};
  . + {
    ($x | if has("key") then .key elif has("k") then .k elif has("name") then .name
          elif has("Name") then .Name elif has("K") then .K else .Key end
        | if type == "string" then . else tojson end):
    ($x | if has("value") then .value elif has("v") then .v else .Value end)
  });

# jq deletes all selected paths at once: `del(.[1], .[2])` removes the original elements 1 and 2
# (so paths go last first), keeps the order of the remaining object keys (jaq's `|= empty` swaps
# the last key into the hole) and leaves missing parents alone (`{} | del(.a.b)` is `{}`).
def delpaths($paths): reduce ($paths | unique | reverse[]) as $p (.;
  if $p == [] then null
  elif getpath($p[:-1]) == null then .
  else $p[-1] as $k | getpath($p[:-1]) |= (
    if type == "object" then with_entries(select(.key != $k)) else .[$k] |= empty end)
  end);
def del(f): delpaths([path(f)]);

# SQL-style helpers of jq 1.6+.
def IN(s): any(s == .; .);
def IN(src; s): any(src == s; .);
def INDEX(stream; idx_expr): reduce stream as $row ({}; .[$row | idx_expr | tostring] |= $row);
def INDEX(idx_expr): INDEX(.[]; idx_expr);
def JOIN($idx; idx_expr): [.[] | [., $idx[idx_expr]]];
def JOIN($idx; stream; idx_expr): stream | [., $idx[idx_expr]];
def JOIN($idx; stream; idx_expr; join_expr): stream | [., $idx[idx_expr]] | join_expr;

# CSV and TSV rows, as jq writes them.
def @csv: if type != "array" then error("\(type) cannot be csv-formatted, only an array can be") else
  map(if type == "string" then "\"" + (split("\"") | join("\"\"")) + "\""
      elif . == null then ""
      elif type == "number" or type == "boolean" then tojson
      else error("\(type) is not valid in a csv row") end) | join(",") end;
def @tsv: if type != "array" then error("\(type) cannot be tsv-formatted, only an array can be") else
  map(if type == "string" then split("\\") | join("\\\\") | split("\t") | join("\\t")
        | split("\n") | join("\\n") | split("\r") | join("\\r")
      elif . == null then ""
      elif type == "number" or type == "boolean" then tojson
      else error("\(type) is not valid in a tsv row") end) | join("\t") end;
