// The primitive table: id = row of dsl/primitives.tsv (the registry's order). The forward
// declarations and the {name, arity, fn} rows are generated at build time from that file by
// gen_tables.py (CMake writes prim_table.inc into the build tree); the p_<name> functions live
// in prims_*.cpp. The Python layer checks names and arities against codeit.dsl.registry on
// import.
#include "functions.hpp"

namespace codeit {

#include "prim_table.inc"

}  // namespace codeit
