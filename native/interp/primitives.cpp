// The primitive table: id = row of dsl/primitives.tsv (the registry's order). The Python layer
// checks names and arities against codeit.dsl.registry on import.
#include "functions.hpp"

namespace codeit {

Value p_identity(Ctx& c, const Value* a);
Value p_add(Ctx& c, const Value* a);
Value p_subtract(Ctx& c, const Value* a);
Value p_multiply(Ctx& c, const Value* a);
Value p_divide(Ctx& c, const Value* a);
Value p_invert(Ctx& c, const Value* a);
Value p_even(Ctx& c, const Value* a);
Value p_double(Ctx& c, const Value* a);
Value p_halve(Ctx& c, const Value* a);
Value p_flip(Ctx& c, const Value* a);
Value p_equality(Ctx& c, const Value* a);
Value p_contained(Ctx& c, const Value* a);
Value p_combine(Ctx& c, const Value* a);
Value p_intersection(Ctx& c, const Value* a);
Value p_difference(Ctx& c, const Value* a);
Value p_dedupe(Ctx& c, const Value* a);
Value p_order(Ctx& c, const Value* a);
Value p_repeat(Ctx& c, const Value* a);
Value p_greater(Ctx& c, const Value* a);
Value p_size(Ctx& c, const Value* a);
Value p_merge(Ctx& c, const Value* a);
Value p_maximum(Ctx& c, const Value* a);
Value p_minimum(Ctx& c, const Value* a);
Value p_valmax(Ctx& c, const Value* a);
Value p_valmin(Ctx& c, const Value* a);
Value p_argmax(Ctx& c, const Value* a);
Value p_argmin(Ctx& c, const Value* a);
Value p_mostcommon(Ctx& c, const Value* a);
Value p_leastcommon(Ctx& c, const Value* a);
Value p_initset(Ctx& c, const Value* a);
Value p_both(Ctx& c, const Value* a);
Value p_either(Ctx& c, const Value* a);
Value p_increment(Ctx& c, const Value* a);
Value p_decrement(Ctx& c, const Value* a);
Value p_crement(Ctx& c, const Value* a);
Value p_sign(Ctx& c, const Value* a);
Value p_positive(Ctx& c, const Value* a);
Value p_toivec(Ctx& c, const Value* a);
Value p_tojvec(Ctx& c, const Value* a);
Value p_sfilter(Ctx& c, const Value* a);
Value p_mfilter(Ctx& c, const Value* a);
Value p_extract(Ctx& c, const Value* a);
Value p_totuple(Ctx& c, const Value* a);
Value p_first(Ctx& c, const Value* a);
Value p_last(Ctx& c, const Value* a);
Value p_insert(Ctx& c, const Value* a);
Value p_remove(Ctx& c, const Value* a);
Value p_other(Ctx& c, const Value* a);
Value p_interval(Ctx& c, const Value* a);
Value p_astuple(Ctx& c, const Value* a);
Value p_product(Ctx& c, const Value* a);
Value p_pair(Ctx& c, const Value* a);
Value p_branch(Ctx& c, const Value* a);
Value p_compose(Ctx& c, const Value* a);
Value p_chain(Ctx& c, const Value* a);
Value p_matcher(Ctx& c, const Value* a);
Value p_rbind(Ctx& c, const Value* a);
Value p_lbind(Ctx& c, const Value* a);
Value p_power(Ctx& c, const Value* a);
Value p_fork(Ctx& c, const Value* a);
Value p_apply(Ctx& c, const Value* a);
Value p_rapply(Ctx& c, const Value* a);
Value p_mapply(Ctx& c, const Value* a);
Value p_papply(Ctx& c, const Value* a);
Value p_mpapply(Ctx& c, const Value* a);
Value p_prapply(Ctx& c, const Value* a);
Value p_mostcolor(Ctx& c, const Value* a);
Value p_leastcolor(Ctx& c, const Value* a);
Value p_height(Ctx& c, const Value* a);
Value p_width(Ctx& c, const Value* a);
Value p_shape(Ctx& c, const Value* a);
Value p_portrait(Ctx& c, const Value* a);
Value p_colorcount(Ctx& c, const Value* a);
Value p_colorfilter(Ctx& c, const Value* a);
Value p_sizefilter(Ctx& c, const Value* a);
Value p_asindices(Ctx& c, const Value* a);
Value p_ofcolor(Ctx& c, const Value* a);
Value p_ulcorner(Ctx& c, const Value* a);
Value p_urcorner(Ctx& c, const Value* a);
Value p_llcorner(Ctx& c, const Value* a);
Value p_lrcorner(Ctx& c, const Value* a);
Value p_crop(Ctx& c, const Value* a);
Value p_toindices(Ctx& c, const Value* a);
Value p_recolor(Ctx& c, const Value* a);
Value p_shift(Ctx& c, const Value* a);
Value p_normalize(Ctx& c, const Value* a);
Value p_dneighbors(Ctx& c, const Value* a);
Value p_ineighbors(Ctx& c, const Value* a);
Value p_neighbors(Ctx& c, const Value* a);
Value p_objects(Ctx& c, const Value* a);
Value p_partition(Ctx& c, const Value* a);
Value p_fgpartition(Ctx& c, const Value* a);
Value p_uppermost(Ctx& c, const Value* a);
Value p_lowermost(Ctx& c, const Value* a);
Value p_leftmost(Ctx& c, const Value* a);
Value p_rightmost(Ctx& c, const Value* a);
Value p_square(Ctx& c, const Value* a);
Value p_vline(Ctx& c, const Value* a);
Value p_hline(Ctx& c, const Value* a);
Value p_hmatching(Ctx& c, const Value* a);
Value p_vmatching(Ctx& c, const Value* a);
Value p_manhattan(Ctx& c, const Value* a);
Value p_adjacent(Ctx& c, const Value* a);
Value p_bordering(Ctx& c, const Value* a);
Value p_centerofmass(Ctx& c, const Value* a);
Value p_palette(Ctx& c, const Value* a);
Value p_numcolors(Ctx& c, const Value* a);
Value p_color(Ctx& c, const Value* a);
Value p_toobject(Ctx& c, const Value* a);
Value p_asobject(Ctx& c, const Value* a);
Value p_rot90(Ctx& c, const Value* a);
Value p_rot180(Ctx& c, const Value* a);
Value p_rot270(Ctx& c, const Value* a);
Value p_hmirror(Ctx& c, const Value* a);
Value p_vmirror(Ctx& c, const Value* a);
Value p_dmirror(Ctx& c, const Value* a);
Value p_cmirror(Ctx& c, const Value* a);
Value p_fill(Ctx& c, const Value* a);
Value p_paint(Ctx& c, const Value* a);
Value p_underfill(Ctx& c, const Value* a);
Value p_underpaint(Ctx& c, const Value* a);
Value p_hupscale(Ctx& c, const Value* a);
Value p_vupscale(Ctx& c, const Value* a);
Value p_upscale(Ctx& c, const Value* a);
Value p_downscale(Ctx& c, const Value* a);
Value p_hconcat(Ctx& c, const Value* a);
Value p_vconcat(Ctx& c, const Value* a);
Value p_subgrid(Ctx& c, const Value* a);
Value p_hsplit(Ctx& c, const Value* a);
Value p_vsplit(Ctx& c, const Value* a);
Value p_cellwise(Ctx& c, const Value* a);
Value p_replace(Ctx& c, const Value* a);
Value p_switch(Ctx& c, const Value* a);
Value p_center(Ctx& c, const Value* a);
Value p_position(Ctx& c, const Value* a);
Value p_index(Ctx& c, const Value* a);
Value p_canvas(Ctx& c, const Value* a);
Value p_corners(Ctx& c, const Value* a);
Value p_connect(Ctx& c, const Value* a);
Value p_cover(Ctx& c, const Value* a);
Value p_trim(Ctx& c, const Value* a);
Value p_move(Ctx& c, const Value* a);
Value p_tophalf(Ctx& c, const Value* a);
Value p_bottomhalf(Ctx& c, const Value* a);
Value p_lefthalf(Ctx& c, const Value* a);
Value p_righthalf(Ctx& c, const Value* a);
Value p_vfrontier(Ctx& c, const Value* a);
Value p_hfrontier(Ctx& c, const Value* a);
Value p_backdrop(Ctx& c, const Value* a);
Value p_delta(Ctx& c, const Value* a);
Value p_gravitate(Ctx& c, const Value* a);
Value p_inbox(Ctx& c, const Value* a);
Value p_outbox(Ctx& c, const Value* a);
Value p_box(Ctx& c, const Value* a);
Value p_shoot(Ctx& c, const Value* a);
Value p_occurrences(Ctx& c, const Value* a);
Value p_frontiers(Ctx& c, const Value* a);
Value p_compress(Ctx& c, const Value* a);
Value p_hperiod(Ctx& c, const Value* a);
Value p_vperiod(Ctx& c, const Value* a);

const PrimInfo kPrims[kNumPrimitives] = {
    {"identity", 1, p_identity},
    {"add", 2, p_add},
    {"subtract", 2, p_subtract},
    {"multiply", 2, p_multiply},
    {"divide", 2, p_divide},
    {"invert", 1, p_invert},
    {"even", 1, p_even},
    {"double", 1, p_double},
    {"halve", 1, p_halve},
    {"flip", 1, p_flip},
    {"equality", 2, p_equality},
    {"contained", 2, p_contained},
    {"combine", 2, p_combine},
    {"intersection", 2, p_intersection},
    {"difference", 2, p_difference},
    {"dedupe", 1, p_dedupe},
    {"order", 2, p_order},
    {"repeat", 2, p_repeat},
    {"greater", 2, p_greater},
    {"size", 1, p_size},
    {"merge", 1, p_merge},
    {"maximum", 1, p_maximum},
    {"minimum", 1, p_minimum},
    {"valmax", 2, p_valmax},
    {"valmin", 2, p_valmin},
    {"argmax", 2, p_argmax},
    {"argmin", 2, p_argmin},
    {"mostcommon", 1, p_mostcommon},
    {"leastcommon", 1, p_leastcommon},
    {"initset", 1, p_initset},
    {"both", 2, p_both},
    {"either", 2, p_either},
    {"increment", 1, p_increment},
    {"decrement", 1, p_decrement},
    {"crement", 1, p_crement},
    {"sign", 1, p_sign},
    {"positive", 1, p_positive},
    {"toivec", 1, p_toivec},
    {"tojvec", 1, p_tojvec},
    {"sfilter", 2, p_sfilter},
    {"mfilter", 2, p_mfilter},
    {"extract", 2, p_extract},
    {"totuple", 1, p_totuple},
    {"first", 1, p_first},
    {"last", 1, p_last},
    {"insert", 2, p_insert},
    {"remove", 2, p_remove},
    {"other", 2, p_other},
    {"interval", 3, p_interval},
    {"astuple", 2, p_astuple},
    {"product", 2, p_product},
    {"pair", 2, p_pair},
    {"branch", 3, p_branch},
    {"compose", 2, p_compose},
    {"chain", 3, p_chain},
    {"matcher", 2, p_matcher},
    {"rbind", 2, p_rbind},
    {"lbind", 2, p_lbind},
    {"power", 2, p_power},
    {"fork", 3, p_fork},
    {"apply", 2, p_apply},
    {"rapply", 2, p_rapply},
    {"mapply", 2, p_mapply},
    {"papply", 3, p_papply},
    {"mpapply", 3, p_mpapply},
    {"prapply", 3, p_prapply},
    {"mostcolor", 1, p_mostcolor},
    {"leastcolor", 1, p_leastcolor},
    {"height", 1, p_height},
    {"width", 1, p_width},
    {"shape", 1, p_shape},
    {"portrait", 1, p_portrait},
    {"colorcount", 2, p_colorcount},
    {"colorfilter", 2, p_colorfilter},
    {"sizefilter", 2, p_sizefilter},
    {"asindices", 1, p_asindices},
    {"ofcolor", 2, p_ofcolor},
    {"ulcorner", 1, p_ulcorner},
    {"urcorner", 1, p_urcorner},
    {"llcorner", 1, p_llcorner},
    {"lrcorner", 1, p_lrcorner},
    {"crop", 3, p_crop},
    {"toindices", 1, p_toindices},
    {"recolor", 2, p_recolor},
    {"shift", 2, p_shift},
    {"normalize", 1, p_normalize},
    {"dneighbors", 1, p_dneighbors},
    {"ineighbors", 1, p_ineighbors},
    {"neighbors", 1, p_neighbors},
    {"objects", 4, p_objects},
    {"partition", 1, p_partition},
    {"fgpartition", 1, p_fgpartition},
    {"uppermost", 1, p_uppermost},
    {"lowermost", 1, p_lowermost},
    {"leftmost", 1, p_leftmost},
    {"rightmost", 1, p_rightmost},
    {"square", 1, p_square},
    {"vline", 1, p_vline},
    {"hline", 1, p_hline},
    {"hmatching", 2, p_hmatching},
    {"vmatching", 2, p_vmatching},
    {"manhattan", 2, p_manhattan},
    {"adjacent", 2, p_adjacent},
    {"bordering", 2, p_bordering},
    {"centerofmass", 1, p_centerofmass},
    {"palette", 1, p_palette},
    {"numcolors", 1, p_numcolors},
    {"color", 1, p_color},
    {"toobject", 2, p_toobject},
    {"asobject", 1, p_asobject},
    {"rot90", 1, p_rot90},
    {"rot180", 1, p_rot180},
    {"rot270", 1, p_rot270},
    {"hmirror", 1, p_hmirror},
    {"vmirror", 1, p_vmirror},
    {"dmirror", 1, p_dmirror},
    {"cmirror", 1, p_cmirror},
    {"fill", 3, p_fill},
    {"paint", 2, p_paint},
    {"underfill", 3, p_underfill},
    {"underpaint", 2, p_underpaint},
    {"hupscale", 2, p_hupscale},
    {"vupscale", 2, p_vupscale},
    {"upscale", 2, p_upscale},
    {"downscale", 2, p_downscale},
    {"hconcat", 2, p_hconcat},
    {"vconcat", 2, p_vconcat},
    {"subgrid", 2, p_subgrid},
    {"hsplit", 2, p_hsplit},
    {"vsplit", 2, p_vsplit},
    {"cellwise", 3, p_cellwise},
    {"replace", 3, p_replace},
    {"switch", 3, p_switch},
    {"center", 1, p_center},
    {"position", 2, p_position},
    {"index", 2, p_index},
    {"canvas", 2, p_canvas},
    {"corners", 1, p_corners},
    {"connect", 2, p_connect},
    {"cover", 2, p_cover},
    {"trim", 1, p_trim},
    {"move", 3, p_move},
    {"tophalf", 1, p_tophalf},
    {"bottomhalf", 1, p_bottomhalf},
    {"lefthalf", 1, p_lefthalf},
    {"righthalf", 1, p_righthalf},
    {"vfrontier", 1, p_vfrontier},
    {"hfrontier", 1, p_hfrontier},
    {"backdrop", 1, p_backdrop},
    {"delta", 1, p_delta},
    {"gravitate", 2, p_gravitate},
    {"inbox", 1, p_inbox},
    {"outbox", 1, p_outbox},
    {"box", 1, p_box},
    {"shoot", 2, p_shoot},
    {"occurrences", 2, p_occurrences},
    {"frontiers", 1, p_frontiers},
    {"compress", 1, p_compress},
    {"hperiod", 1, p_hperiod},
    {"vperiod", 1, p_vperiod},
};

}  // namespace codeit
