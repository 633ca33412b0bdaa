"""The 160 primitives: exact values, edge cases, canonical ties, kind errors, size pre-checks,
step counts, the catalogue, the constants; and, where arc-dsl is at hand, a differential test."""

import csv
import importlib.util
import random
import sys
from pathlib import Path

import pytest

from codeit.dsl import constants as C
from codeit.dsl import functions as fn
from codeit.dsl import primitives as P
from codeit.dsl.values import (
    DSLRuntimeError,
    DSLTypeError,
    SizeLimitExceeded,
    Status,
    StepLimitExceeded,
    TimeLimitExceeded,
    status_of_exception,
)

DSL_DIR = Path(P.__file__).resolve().parent


def prim(name):
    return fn.Primitive(name, getattr(P, name))


def fs(*items):
    return frozenset(items)


def status_of(call, *args):
    try:
        call(*args)
    except Exception as e:  # noqa: BLE001 - the point is to classify it
        return status_of_exception(e)
    return Status.OK


G = ((1, 1, 0),
     (0, 2, 0),
     (0, 0, 3))
G2 = ((1, 2), (3, 4))
OBJ = fs((1, (0, 0)), (1, (0, 1)), (2, (1, 1)))
IND = fs((0, 0), (0, 1), (1, 1))
P2 = fs((1, 3), (2, 1), (4, 2))
NINE = ((1, 2, 3), (4, 5, 6), (7, 8, 9))

(SIZE, FIRST, LAST, INCREMENT, DECREMENT, DOUBLE, EVEN, ADD, SUBTRACT, ASTUPLE, HALVE,
 DNEIGHBORS, TOIVEC) = map(prim, (
    "size", "first", "last", "increment", "decrement", "double", "even", "add", "subtract",
    "astuple", "halve", "dneighbors", "toivec"))


# --- exact values: at least one case for every primitive ---------------------------------------

CASES = [
    ("identity", (5,), 5),
    ("add", (1, 2), 3),
    ("add", ((1, 2), (3, 4)), (4, 6)),
    ("add", (1, (2, 3)), (3, 4)),
    ("add", ((2, 3), 1), (3, 4)),
    ("add", (True, 1), 2),
    ("subtract", (5, 3), 2),
    ("subtract", ((5, 5), (1, 2)), (4, 3)),
    ("subtract", (10, (1, 2)), (9, 8)),
    ("subtract", ((1, 2), 1), (0, 1)),
    ("multiply", (3, 4), 12),
    ("multiply", ((1, 2), (3, 4)), (3, 8)),
    ("multiply", (2, (3, 4)), (6, 8)),
    ("divide", (7, 2), 3),
    ("divide", (-7, 2), -4),
    ("divide", ((7, 9), (2, 3)), (3, 3)),
    ("divide", ((7, 8), 2), (3, 4)),
    ("invert", (3,), -3),
    ("invert", ((1, -2),), (-1, 2)),
    ("even", (4,), True),
    ("even", (3,), False),
    ("double", (3,), 6),
    ("double", ((1, 2),), (2, 4)),
    ("halve", (7,), 3),
    ("halve", (-3,), -2),
    ("halve", ((5, 4),), (2, 2)),
    ("flip", (True,), False),
    ("flip", (0,), True),
    ("equality", ((1, 2), (1, 2)), True),
    ("equality", (fs(1), (1,)), False),
    ("equality", (True, 1), True),
    ("contained", (2, (1, 2)), True),
    ("contained", ((0, 0), IND), True),
    ("contained", ((5, 5), IND), False),
    ("combine", ((1, 2), (2, 3)), (1, 2, 2, 3)),
    ("combine", (fs(1), fs(2)), fs(1, 2)),
    ("combine", ((1,), fs(3, 2)), (1, 2, 3)),
    ("intersection", (fs(1, 2), fs(2, 3)), fs(2)),
    ("difference", (fs(1, 2, 3), fs(2)), fs(1, 3)),
    ("difference", ((1, 2, 1, 3), (1,)), (2, 3)),
    ("dedupe", ((3, 1, 3, 2, 1),), (3, 1, 2)),
    ("order", (fs((0, 5), (1, 1), (2, 3)), LAST), ((1, 1), (2, 3), (0, 5))),
    ("order", ((3, 2, 1, 4), EVEN), (3, 1, 2, 4)),
    ("repeat", (7, 3), (7, 7, 7)),
    ("repeat", (7, 0), ()),
    ("repeat", (7, -1), ()),
    ("greater", (3, 2), True),
    ("greater", (2, 2), False),
    ("size", (IND,), 3),
    ("size", ((),), 0),
    ("merge", (fs(fs(1, 2), fs(3)),), fs(1, 2, 3)),
    ("merge", (((1, 2), (2, 3)),), (1, 2, 2, 3)),
    ("merge", ((fs(2, 1), (0,)),), (1, 2, 0)),
    ("maximum", (fs(1, 5, 3),), 5),
    ("maximum", ((2, 9, 4),), 9),
    ("minimum", (fs(1, 5, 3),), 1),
    ("valmax", (fs((0, 5), (1, 1)), LAST), 5),
    ("valmin", (fs((0, 5), (1, 1)), LAST), 1),
    ("argmax", (fs((0, 5), (1, 1)), LAST), (0, 5)),
    ("argmin", (fs((0, 5), (1, 1)), LAST), (1, 1)),
    ("mostcommon", ((1, 2, 3, 3),), 3),
    ("leastcommon", ((1, 1, 2, 3, 3),), 2),
    ("initset", (5,), fs(5)),
    ("both", (True, False), False),
    ("both", (1, 5), 5),
    ("either", (0, 3), 3),
    ("either", (False, False), False),
    ("increment", (1,), 2),
    ("increment", ((1, 2),), (2, 3)),
    ("decrement", (0,), -1),
    ("decrement", ((1, 2),), (0, 1)),
    ("crement", (0,), 0),
    ("crement", (3,), 4),
    ("crement", (-3,), -4),
    ("crement", ((0, -1),), (0, -2)),
    ("sign", (-5,), -1),
    ("sign", (0,), 0),
    ("sign", ((3, 0),), (1, 0)),
    ("positive", (1,), True),
    ("positive", (0,), False),
    ("toivec", (3,), (3, 0)),
    ("tojvec", (3,), (0, 3)),
    ("sfilter", ((1, 2, 3, 4), EVEN), (2, 4)),
    ("sfilter", (fs(1, 2, 3, 4), EVEN), fs(2, 4)),
    ("mfilter", (fs(fs(1, 2), fs(3), fs(4, 5)), fn.Compose(EVEN, SIZE)), fs(1, 2, 4, 5)),
    ("extract", (fs(1, 2, 3, 4), EVEN), 2),
    ("extract", ((5, 4, 2), EVEN), 4),
    ("totuple", (fs(3, 1, 2),), (1, 2, 3)),
    ("first", (fs(3, 1, 2),), 1),
    ("first", ((3, 1),), 3),
    ("last", (fs(3, 1, 2),), 3),
    ("last", ((3, 1),), 1),
    ("insert", (3, fs(1)), fs(1, 3)),
    ("remove", (1, (1, 2, 1, 3)), (2, 3)),
    ("remove", (1, fs(1, 2)), fs(2)),
    ("other", (fs(1, 2), 1), 2),
    ("interval", (0, 5, 2), (0, 2, 4)),
    ("interval", (5, 0, -2), (5, 3, 1)),
    ("interval", (3, 3, 1), ()),
    ("astuple", (1, 2), (1, 2)),
    ("product", (fs(1, 2), fs(3)), fs((1, 3), (2, 3))),
    ("product", ((), (1,)), fs()),
    ("pair", ((1, 2, 3), (4, 5)), ((1, 4), (2, 5))),
    ("branch", (True, 1, 2), 1),
    ("branch", (0, 1, 2), 2),
    ("apply", (INCREMENT, (1, 2, 1)), (2, 3, 2)),
    ("apply", (HALVE, fs(2, 3)), fs(1)),
    ("rapply", (fs(INCREMENT, DECREMENT), 5), fs(6, 4)),
    ("rapply", ((INCREMENT, DOUBLE), 5), (6, 10)),
    ("mapply", (DNEIGHBORS, fs((0, 0))), fs((-1, 0), (1, 0), (0, -1), (0, 1))),
    ("mapply", (TOIVEC, fs(1, 2)), fs(0, 1, 2)),
    ("papply", (ADD, (1, 2), (10, 20)), (11, 22)),
    ("mpapply", (ASTUPLE, (1, 2), (3, 4)), (1, 3, 2, 4)),
    ("prapply", (ADD, fs(1, 2), fs(10, 20)), fs(11, 21, 12, 22)),
    ("mostcolor", (G,), 0),
    ("mostcolor", (OBJ,), 1),
    ("leastcolor", (G,), 2),
    ("leastcolor", (OBJ,), 2),
    ("height", (G,), 3),
    ("height", (IND,), 2),
    ("height", (fs(),), 0),
    ("height", ((),), 0),
    ("width", (G,), 3),
    ("width", (IND,), 2),
    ("width", (fs((0, 5)),), 1),
    ("shape", (G,), (3, 3)),
    ("shape", (fs((0, 0), (2, 5)),), (3, 6)),
    ("portrait", (((1,), (2,)),), True),
    ("portrait", (G,), False),
    ("colorcount", (G, 0), 5),
    ("colorcount", (OBJ, 1), 2),
    ("colorfilter", (fs(fs((1, (0, 0))), fs((2, (5, 5)), (2, (5, 6)))), 2), fs(fs((2, (5, 5)), (2, (5, 6))))),
    ("sizefilter", (fs(fs(1), fs(1, 2)), 2), fs(fs(1, 2))),
    ("asindices", (((1, 2),),), fs((0, 0), (0, 1))),
    ("ofcolor", (G, 1), fs((0, 0), (0, 1))),
    ("ulcorner", (P2,), (1, 1)),
    ("urcorner", (P2,), (1, 3)),
    ("llcorner", (P2,), (4, 1)),
    ("lrcorner", (P2,), (4, 3)),
    ("ulcorner", (OBJ,), (0, 0)),
    ("crop", (G, (1, 1), (2, 2)), ((2, 0), (0, 3))),
    ("toindices", (OBJ,), IND),
    ("toindices", (IND,), IND),
    ("recolor", (5, IND), fs((5, (0, 0)), (5, (0, 1)), (5, (1, 1)))),
    ("recolor", (5, OBJ), fs((5, (0, 0)), (5, (0, 1)), (5, (1, 1)))),
    ("shift", (IND, (1, 2)), fs((1, 2), (1, 3), (2, 3))),
    ("shift", (OBJ, (1, 0)), fs((1, (1, 0)), (1, (1, 1)), (2, (2, 1)))),
    ("normalize", (fs((3, (2, 5)), (4, (3, 4))),), fs((3, (0, 1)), (4, (1, 0)))),
    ("dneighbors", ((1, 1),), fs((0, 1), (2, 1), (1, 0), (1, 2))),
    ("ineighbors", ((1, 1),), fs((0, 0), (0, 2), (2, 0), (2, 2))),
    ("neighbors", ((1, 1),), fs((0, 1), (2, 1), (1, 0), (1, 2), (0, 0), (0, 2), (2, 0), (2, 2))),
    ("objects", (((1, 1, 0), (0, 1, 0), (0, 0, 2)), True, False, True),
     fs(fs((1, (0, 0)), (1, (0, 1)), (1, (1, 1))), fs((2, (2, 2))))),
    ("objects", (((1, 0), (0, 1)), True, True, True), fs(fs((1, (0, 0)), (1, (1, 1))))),
    ("objects", (((1, 0), (0, 1)), True, False, True), fs(fs((1, (0, 0))), fs((1, (1, 1))))),
    ("objects", (((1, 2), (0, 0)), False, False, True), fs(fs((1, (0, 0)), (2, (0, 1))))),
    ("objects", (((1, 2), (0, 0)), True, False, True), fs(fs((1, (0, 0))), fs((2, (0, 1))))),
    ("objects", (((1, 2), (0, 0)), True, False, False),
     fs(fs((1, (0, 0))), fs((2, (0, 1))), fs((0, (1, 0)), (0, (1, 1))))),
    ("objects", (((1, 2), (0, 0)), False, False, False),
     fs(fs((1, (0, 0)), (2, (0, 1)), (0, (1, 0)), (0, (1, 1))))),
    ("partition", (((1, 2), (1, 1)),), fs(fs((1, (0, 0)), (1, (1, 0)), (1, (1, 1))), fs((2, (0, 1))))),
    ("fgpartition", (((1, 2), (1, 1)),), fs(fs((2, (0, 1))))),
    ("uppermost", (P2,), 1),
    ("lowermost", (P2,), 4),
    ("leftmost", (P2,), 1),
    ("rightmost", (P2,), 3),
    ("square", (G2,), True),
    ("square", (((1, 2),),), False),
    ("square", (fs((0, 0), (0, 1), (1, 0), (1, 1)),), True),
    ("square", (fs((0, 0), (1, 1)),), False),
    ("vline", (fs((0, 2), (1, 2), (2, 2)),), True),
    ("vline", (fs((0, 2), (2, 2)),), False),
    ("hline", (fs((2, 0), (2, 1)),), True),
    ("hline", (fs((2, 0), (3, 1)),), False),
    ("hmatching", (fs((0, 0)), fs((0, 5))), True),
    ("hmatching", (fs((0, 0)), fs((1, 0))), False),
    ("vmatching", (fs((0, 0)), fs((0, 5))), False),
    ("vmatching", (fs((0, 0)), fs((3, 0))), True),
    ("manhattan", (fs((0, 0)), fs((2, 3), (1, 1))), 2),
    ("adjacent", (fs((0, 0)), fs((0, 1))), True),
    ("adjacent", (fs((0, 0)), fs((1, 1))), False),
    ("bordering", (fs((1, 1)), G), False),
    ("bordering", (fs((2, 1)), G), True),
    ("bordering", (fs((1, 2)), G), True),
    ("centerofmass", (fs((0, 0), (2, 3)),), (1, 1)),
    ("palette", (G,), fs(0, 1, 2, 3)),
    ("palette", (OBJ,), fs(1, 2)),
    ("numcolors", (G,), 4),
    ("color", (OBJ,), 1),
    ("toobject", (fs((0, 0), (2, 2), (5, 5), (-1, 0)), G), fs((1, (0, 0)), (3, (2, 2)))),
    ("asobject", (((1, 2),),), fs((1, (0, 0)), (2, (0, 1)))),
    ("rot90", (G2,), ((3, 1), (4, 2))),
    ("rot180", (G2,), ((4, 3), (2, 1))),
    ("rot270", (G2,), ((2, 4), (1, 3))),
    ("rot90", (((1, 2, 3),),), ((1,), (2,), (3,))),
    ("hmirror", (G2,), ((3, 4), (1, 2))),
    ("hmirror", (fs((0, 0), (1, 0), (2, 1)),), fs((2, 0), (1, 0), (0, 1))),
    ("vmirror", (G2,), ((2, 1), (4, 3))),
    ("vmirror", (fs((0, 0), (0, 1), (1, 3)),), fs((0, 3), (0, 2), (1, 0))),
    ("dmirror", (G2,), ((1, 3), (2, 4))),
    ("dmirror", (fs((5, (0, 0)), (6, (0, 1))),), fs((5, (0, 0)), (6, (1, 0)))),
    ("dmirror", (fs((1, 2), (1, 4)),), fs((1, 2), (3, 2))),
    ("cmirror", (G2,), ((4, 2), (3, 1))),
    ("cmirror", (fs((1, (0, 0)), (2, (0, 1))),), fs((2, (0, 0)), (1, (1, 0)))),
    ("fill", (G, 9, fs((0, 0), (5, 5), (-1, 0))), ((9, 1, 0), (0, 2, 0), (0, 0, 3))),
    ("paint", (G, fs((7, (1, 1)), (8, (9, 9)), (8, (-1, 2)))), ((1, 1, 0), (0, 7, 0), (0, 0, 3))),
    ("underfill", (G, 9, fs((0, 0), (0, 2))), ((1, 1, 9), (0, 2, 0), (0, 0, 3))),
    ("underpaint", (G, fs((9, (0, 2)), (9, (0, 0)))), ((1, 1, 9), (0, 2, 0), (0, 0, 3))),
    ("hupscale", (((1, 2),), 2), ((1, 1, 2, 2),)),
    ("vupscale", (((1, 2),), 2), ((1, 2), (1, 2))),
    ("upscale", (((1, 2),), 2), ((1, 1, 2, 2), (1, 1, 2, 2))),
    ("upscale", (fs((3, (1, 1))), 2), fs((3, (1, 1)), (3, (1, 2)), (3, (2, 1)), (3, (2, 2)))),
    ("upscale", (fs((3, (1, 1)), (4, (1, 2))), 2),
     fs((3, (1, 1)), (3, (1, 2)), (3, (2, 1)), (3, (2, 2)), (4, (1, 3)), (4, (1, 4)), (4, (2, 3)), (4, (2, 4)))),
    ("downscale", (NINE, 2), ((1, 3), (7, 9))),
    ("hconcat", (((1,), (2,)), ((3,), (4,))), ((1, 3), (2, 4))),
    ("hconcat", (((1,), (2,)), ((3,),)), ((1, 3),)),
    ("vconcat", (((1,), (2,)), ((3,), (4,))), ((1,), (2,), (3,), (4,))),
    ("subgrid", (fs((1, 1), (2, 2)), G), ((2, 0), (0, 3))),
    ("subgrid", (fs((2, (0, 1)), (2, (1, 2))), G), ((1, 0), (2, 0))),
    ("hsplit", (((1, 2, 0, 3, 4),), 2), (((1, 2),), ((3, 4),))),
    ("hsplit", (((1, 2, 3, 4),), 2), (((1, 2),), ((3, 4),))),
    ("vsplit", (((1,), (2,), (3,), (4,)), 2), (((1,), (2,)), ((3,), (4,)))),
    ("vsplit", (((1,), (2,), (0,), (3,), (4,)), 2), (((1,), (2,)), ((3,), (4,)))),
    ("cellwise", (G2, ((1, 0), (3, 0)), 9), ((1, 9), (3, 9))),
    ("replace", (G, 0, 5), ((1, 1, 5), (5, 2, 5), (5, 5, 3))),
    ("switch", (((1, 2), (2, 3)), 1, 2), ((2, 1), (1, 3))),
    ("center", (fs((0, 0), (2, 4)),), (1, 2)),
    ("position", (fs((0, 0)), fs((0, 5))), (0, 1)),
    ("position", (fs((0, 5)), fs((0, 0))), (0, -1)),
    ("position", (fs((0, 0)), fs((3, 0))), (1, 0)),
    ("position", (fs((3, 0)), fs((0, 0))), (-1, 0)),
    ("position", (fs((0, 0)), fs((3, 3))), (1, 1)),
    ("position", (fs((0, 3)), fs((3, 0))), (1, -1)),
    ("position", (fs((3, 0)), fs((0, 3))), (-1, 1)),
    ("position", (fs((1, 1)), fs((1, 1))), (0, -1)),
    ("index", (G, (2, 2)), 3),
    ("index", (G, (3, 0)), None),
    ("index", (G, (-1, 0)), None),
    ("canvas", (4, (2, 3)), ((4, 4, 4), (4, 4, 4))),
    ("canvas", (1, (0, 3)), ()),
    ("canvas", (1, (2, 0)), ((), ())),
    ("corners", (fs((1, 1), (3, 4)),), fs((1, 1), (1, 4), (3, 1), (3, 4))),
    ("connect", ((0, 0), (0, 2)), fs((0, 0), (0, 1), (0, 2))),
    ("connect", ((2, 0), (0, 0)), fs((0, 0), (1, 0), (2, 0))),
    ("connect", ((0, 0), (2, 2)), fs((0, 0), (1, 1), (2, 2))),
    ("connect", ((0, 2), (2, 0)), fs((0, 2), (1, 1), (2, 0))),
    ("connect", ((0, 0), (1, 2)), fs()),
    ("cover", (G, fs((2, 2))), ((1, 1, 0), (0, 2, 0), (0, 0, 0))),
    ("trim", (NINE,), ((5,),)),
    ("move", (G, fs((3, (2, 2))), (-2, 0)), ((1, 1, 3), (0, 2, 0), (0, 0, 0))),
    ("tophalf", (((1,), (2,), (3,)),), ((1,),)),
    ("bottomhalf", (((1,), (2,), (3,)),), ((3,),)),
    ("lefthalf", (((1, 2, 3),),), ((1,),)),
    ("righthalf", (((1, 2, 3),),), ((3,),)),
    ("lefthalf", (((1, 2, 3, 4),),), ((1, 2),)),
    ("vfrontier", ((2, 3),), frozenset((i, 3) for i in range(30))),
    ("hfrontier", ((2, 3),), frozenset((2, j) for j in range(30))),
    ("backdrop", (fs((0, 0), (1, 2)),), fs((0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2))),
    ("delta", (fs((0, 0), (1, 2)),), fs((0, 1), (0, 2), (1, 0), (1, 1))),
    ("gravitate", (fs((0, 0)), fs((0, 5))), (0, 4)),
    ("gravitate", (fs((0, 0)), fs((5, 0))), (4, 0)),
    ("gravitate", (fs((0, 5)), fs((0, 0))), (0, -4)),
    ("gravitate", (fs((0, 0)), fs((0, 1))), (0, 0)),
    ("inbox", (fs((0, 0), (4, 4)),), fs((1, 1), (1, 2), (1, 3), (2, 1), (2, 3), (3, 1), (3, 2), (3, 3))),
    ("outbox", (fs((1, 1)),), fs((0, 0), (0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1), (2, 2))),
    ("box", (fs((0, 0), (2, 2)),), fs((0, 0), (0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1), (2, 2))),
    ("shoot", ((0, 0), (1, 1)), frozenset((k, k) for k in range(43))),
    ("shoot", ((5, 5), (0, -1)), frozenset((5, j) for j in range(-37, 6))),
    ("occurrences", (((1, 0, 1), (0, 1, 0)), fs((1, (0, 0)))), fs((0, 0), (0, 2), (1, 1))),
    ("occurrences", (((1, 0, 1), (0, 1, 0)), fs((1, (5, 5)), (0, (5, 6)))), fs((0, 0), (1, 1))),
    ("frontiers", (((1, 1), (1, 2)),), fs(fs((1, (0, 0)), (1, (0, 1))), fs((1, (0, 0)), (1, (1, 0))))),
    ("compress", (((0, 0, 0), (1, 0, 2), (3, 0, 4)),), ((1, 2), (3, 4))),
    ("hperiod", (fs((1, (0, 0)), (2, (0, 1)), (1, (0, 2)), (2, (0, 3))),), 2),
    ("hperiod", (fs((1, (0, 0)), (2, (0, 1))),), 2),
    ("hperiod", (fs((1, (3, 4)), (1, (3, 5)), (1, (3, 6))),), 1),
    ("vperiod", (fs((1, (0, 0)), (2, (1, 0)), (1, (2, 0)), (2, (3, 0))),), 2),
    ("vperiod", (fs((1, (0, 0)), (2, (1, 0)), (3, (2, 0))),), 3),
]


@pytest.mark.parametrize("name, args, expected", CASES, ids=[c[0] for c in CASES])
def test_exact_value(name, args, expected):
    result = getattr(P, name)(*args)
    assert result == expected
    assert type(result) is type(expected)


def _catalogue():
    with open(DSL_DIR / "primitives.tsv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def test_every_primitive_has_an_exact_case():
    builders = {"compose", "chain", "matcher", "rbind", "lbind", "power", "fork"}  # tested below
    missing = {row["name"] for row in _catalogue()} - {c[0] for c in CASES} - builders
    assert not missing


# --- the catalogue and the constants -------------------------------------------------------------

def test_every_catalogue_name_is_a_function_with_the_catalogue_parameters():
    rows = _catalogue()
    assert len(rows) == 160
    for row in rows:
        impl = getattr(P, row["name"], None)
        assert callable(impl), row["name"]
        params = [p.split(":")[0].strip() for p in row["params"].split(",") if p.strip()]
        assert impl.__code__.co_argcount == int(row["arity"]) == len(params), row["name"]
        assert list(impl.__code__.co_varnames[:impl.__code__.co_argcount]) == params, row["name"]


def _constant_from_text(text):
    text = text.strip()
    if text in ("True", "False"):
        return text == "True"
    if text.startswith("("):
        return tuple(int(part) for part in text[1:-1].split(","))
    return int(text)


def test_constants_match_the_catalogue():
    with open(DSL_DIR / "constants.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert len(rows) == 28
    assert list(C.CONSTANTS) == [row["name"] for row in rows]
    for row in rows:
        expected = _constant_from_text(row["value"])
        assert C.CONSTANTS[row["name"]] == expected and type(C.CONSTANTS[row["name"]]) is type(expected)
        assert getattr(C, row["name"]) == expected


# --- empty inputs ------------------------------------------------------------------------------

@pytest.mark.parametrize("name, args", [
    ("first", ((),)), ("first", (fs(),)), ("last", ((),)), ("last", (fs(),)),
    ("extract", (fs(1, 3), EVEN)), ("extract", (fs(), EVEN)),
    ("other", (fs(1), 1)), ("color", (fs(),)),
    ("argmax", (fs(), SIZE)), ("argmin", ((), SIZE)),
    ("mostcolor", ((),)), ("mostcolor", (fs(),)), ("leastcolor", (fs(),)),
    ("mostcommon", ((),)), ("leastcommon", ((),)),
    ("uppermost", (fs(),)), ("lowermost", (fs(),)), ("leftmost", (fs(),)), ("rightmost", (fs(),)),
    ("center", (fs(),)), ("manhattan", (fs(), IND)), ("manhattan", (IND, fs())),
    ("adjacent", (fs(), IND)), ("inbox", (fs(),)), ("outbox", (fs(),)),
    ("gravitate", (fs(), IND)), ("position", (fs(), IND)), ("bordering", (fs(), G)),
    ("hmirror", (fs(),)), ("vmirror", (fs(),)), ("dmirror", (fs(),)), ("cmirror", (fs(),)),
    ("subgrid", (fs(), G)), ("objects", ((), True, False, True)),
    ("fill", ((), 1, IND)), ("paint", ((), OBJ)), ("toobject", (IND, ())), ("index", ((), (0, 0))),
    ("square", ((),)), ("frontiers", ((),)), ("fgpartition", ((),)), ("downscale", ((), 2)),
    ("hsplit", ((), 2)), ("cellwise", ((), G, 0)), ("index", (G, ())), ("crop", (G, (), (1, 1))),
    ("add", ((), 1)), ("shift", (IND, ())), ("connect", (fs(), (0, 0))),
])
def test_empty_inputs_fail_as_in_arc_dsl(name, args):
    assert status_of(getattr(P, name), *args) is Status.RUNTIME_ERROR


def test_empty_inputs_that_succeed():
    assert P.ulcorner(fs()) == () and P.lrcorner(fs()) == () and P.urcorner(fs()) == ()
    assert P.corners(fs()) == fs(())
    assert P.maximum(fs()) == 0 and P.minimum(()) == 0
    assert P.valmax(fs(), INCREMENT) == 1 and P.valmin((), DECREMENT) == -1
    assert P.centerofmass(fs()) == ()
    assert P.backdrop(fs()) == fs() and P.delta(fs()) == fs()
    assert P.box(fs()) == fs() and P.box(()) == ()
    assert P.shift((), (1, 1)) == () and P.normalize(fs()) == fs()
    assert P.toindices(()) == fs() and P.recolor(1, fs()) == fs()
    assert P.upscale(fs(), 3) == fs() and P.hperiod(fs()) == 0 and P.vperiod(fs()) == 0
    assert P.partition(()) == fs() and P.compress(()) == ()
    assert P.hmatching(fs(), IND) is False and P.vline(fs()) is False
    assert P.square(fs()) is True
    assert P.sizefilter(fs(), 0) == fs() and P.merge(fs()) == fs() and P.merge(()) == ()
    assert P.tophalf(((1,),)) == () and P.lefthalf(((1,),)) == ()
    # arc-dsl reads a first row only to index it: an empty grid has no indices, not no first row.
    assert P.asindices(()) == fs() and P.asindices(P.tophalf(((1, 2),))) == fs()


@pytest.mark.parametrize("name, args", [
    ("connect", ((0, 0), OBJ)), ("connect", ((1, 2, 3), (0, 0))), ("connect", ((5,), OBJ)),
    ("connect", (G2, (1, 2, 3))),
])
def test_connect_fails_as_arc_dsl_unpacks_a_point(name, args):
    # arc-dsl's `ai, aj = a` then `bi, bj = b`: a container of another size than two fails there
    # (ValueError), before anything looks at the kind of what the containers hold.
    assert status_of(getattr(P, name), *args) is Status.RUNTIME_ERROR


def test_occurrences_of_an_empty_object_is_every_position():
    assert P.occurrences(G2, fs()) == frozenset((i, j) for i in range(3) for j in range(3))


def test_occurrences_of_an_object_larger_than_the_grid_is_empty():
    assert P.occurrences(((1,),), fs((1, (0, 0)), (1, (0, 1)))) == fs()


# --- division, split and downscale by zero, and power below one --------------------------------

@pytest.mark.parametrize("name, args", [
    ("divide", (1, 0)), ("divide", ((4, 4), (2, 0))), ("divide", ((4, 4), 0)), ("divide", (4, (0, 1))),
    ("downscale", (G, 0)), ("hsplit", (G, 0)), ("vsplit", (G, 0)), ("interval", (0, 5, 0)),
    ("power", (INCREMENT, 0)), ("power", (INCREMENT, -3)),
])
def test_zero_divisors_and_bad_counts_are_runtime_errors(name, args):
    assert status_of(getattr(P, name), *args) is Status.RUNTIME_ERROR


def test_negative_counts_build_nothing():
    assert P.hsplit(G, -1) == () and P.vsplit(G, -2) == ()
    assert P.hupscale(G2, 0) == ((), ()) and P.vupscale(G2, 0) == () and P.upscale(G2, -1) == ()
    assert P.upscale(fs((1, (0, 0))), 0) == fs()
    assert P.downscale(NINE, -2) == ((1, 3), (7, 9))  # Python's modulo, as arc-dsl


# --- out of bounds -------------------------------------------------------------------------------

def test_painting_and_filling_drop_out_of_bounds_cells():
    off = fs((-1, 0), (0, -1), (3, 0), (0, 3), (99, 99))
    assert P.fill(G, 9, off) == G
    assert P.underfill(G, 9, off) == G
    assert P.paint(G, P.recolor(9, off)) == G
    assert P.underpaint(G, P.recolor(9, off)) == G
    assert P.toobject(off, G) == fs()
    assert P.cover(G, off) == G


def test_crop_clips_and_wraps_like_a_slice():
    assert P.crop(G, (2, 2), (5, 5)) == ((3,),)
    assert P.crop(G, (5, 5), (2, 2)) == ()
    assert P.crop(G, (-1, 0), (1, 3)) == ()          # G[-1:0] is empty
    assert P.crop(G, (-1, -2), (5, 5)) == ((0, 3),)   # G[-1:4], then row[-2:3]
    assert P.crop(G, (0, 0), (0, 0)) == ()


def test_index_off_the_grid_is_none():
    assert [P.index(G, loc) for loc in ((0, 3), (3, 0), (-1, -1))] == [None, None, None]


# --- ties and canonical order -----------------------------------------------------------------------

def test_argmax_argmin_ties_go_to_the_first_in_canonical_order():
    items = fs((3, 1), (1, 1), (2, 1))
    assert P.argmax(items, LAST) == (1, 1)
    assert P.argmin(items, LAST) == (1, 1)
    assert P.argmax(((3, 1), (1, 1)), LAST) == (3, 1)  # a tuple keeps its own order
    objs = fs(fs((1, (5, 5))), fs((2, (0, 0))), fs((1, (0, 0))))
    assert P.argmax(objs, SIZE) == fs((1, (0, 0)))


def test_valmax_calls_the_key_again_on_the_winner():
    budget = fn.Budget()
    with fn.active(budget):
        assert P.valmax(fs(1, 2, 3), INCREMENT) == 4
    assert budget.steps == 4
    budget = fn.Budget()
    with fn.active(budget):
        assert P.valmin(fs(), INCREMENT) == 1
    assert budget.steps == 1


def test_color_ties_go_to_the_smallest_color():
    assert P.mostcolor(((1, 2), (2, 1))) == 1
    assert P.mostcolor(((5, 3), (3, 5))) == 3
    assert P.leastcolor(((4, 4, 7, 2),)) == 2
    assert P.mostcolor(fs((2, (0, 0)), (1, (0, 1)))) == 1


def test_mostcommon_ties_go_to_the_first_in_canonical_order():
    assert P.mostcommon((3, 3, 1, 1, 2)) == 1
    assert P.leastcommon((3, 2, 1, 1)) == 2
    assert P.mostcommon(((0, 1), (0, 0), (0, 1), (0, 0))) == (0, 0)


def test_first_last_totuple_other_extract_follow_canonical_order():
    cells = fs((2, (0, 0)), (1, (3, 3)), (1, (0, 9)))
    assert P.first(cells) == (1, (0, 9))
    assert P.last(cells) == (2, (0, 0))
    assert P.totuple(cells) == ((1, (0, 9)), (1, (3, 3)), (2, (0, 0)))
    assert P.other(fs(1, 2, 3), 1) == 2
    assert P.extract(cells, fn.Compose(EVEN, FIRST)) == (2, (0, 0))
    objs = fs(fs((1, (1, 1))), fs((1, (0, 5)), (1, (0, 6))), fs((0, (9, 9))))
    assert P.first(objs) == fs((0, (9, 9)))
    assert P.totuple(fs(frozenset({5}), frozenset({1, 2}))) == (frozenset({1, 2}), frozenset({5}))


def test_order_is_stable_over_canonical_order():
    assert P.order(fs(5, 1, 4, 2), EVEN) == (1, 5, 2, 4)
    assert P.order(fs((0, 2), (1, 1), (2, 0)), fn.Compose(EVEN, FIRST)) == ((1, 1), (0, 2), (2, 0))


def test_color_of_a_multicolored_object_is_its_first_cell():
    assert P.color(fs((2, (0, 0)), (1, (5, 5)))) == 1
    assert P.colorfilter(fs(fs((2, (0, 0)), (1, (5, 5)))), 1) == fs(fs((2, (0, 0)), (1, (5, 5))))


def test_paint_later_cell_in_canonical_order_wins_a_shared_location():
    assert P.paint(((0,),), fs((6, (0, 0)), (4, (0, 0)))) == ((6,),)
    assert P.paint(((0,),), ((6, (0, 0)), (4, (0, 0)))) == ((4,),)  # a tuple in its own order


def test_underpaint_first_cell_in_canonical_order_wins_a_shared_location():
    assert P.underpaint(((0, 0),), fs((6, (0, 1)), (4, (0, 1)))) == ((0, 4),)


def test_maximum_of_pairs_and_mixed_values_uses_canonical_order():
    assert P.maximum(fs((0, 5), (1, 0))) == (1, 0)
    assert P.maximum(fs(7, (0, 0))) == (0, 0)  # an int sorts before every tuple
    assert P.minimum(fs(fs(1, 2), fs(5))) == fs(1, 2)


def test_combine_and_merge_put_a_frozenset_into_a_tuple_in_canonical_order():
    assert P.combine((9,), fs(3, 1, 2)) == (9, 1, 2, 3)
    assert P.merge((fs(3, 1), fs(2, 0))) == (1, 3, 0, 2)
    assert P.pair(fs(2, 1), (5, 6)) == ((1, 5), (2, 6))


# --- containers keep their type -----------------------------------------------------------------

def test_containers_keep_their_type():
    assert P.apply(INCREMENT, (1, 1)) == (2, 2)
    assert P.apply(INCREMENT, fs(1, 2)) == fs(2, 3)
    assert P.sfilter((2, 2, 3), EVEN) == (2, 2)
    assert type(P.sfilter(fs(2, 3), EVEN)) is frozenset
    assert P.merge(((1,), (1,))) == (1, 1)
    assert P.remove(2, (2, 1, 2)) == (1,)
    assert type(P.remove(2, fs(2, 1))) is frozenset
    assert P.difference((1, 2, 2), fs(1)) == (2, 2)
    assert P.combine((1,), (1,)) == (1, 1)
    assert P.rapply((INCREMENT, INCREMENT), 0) == (1, 1)
    assert P.rapply(fs(INCREMENT, prim("increment")), 0) == fs(1)
    assert P.mapply(TOIVEC, (1, 1)) == (1, 0, 1, 0)
    assert P.mpapply(ASTUPLE, (1, 1), (2, 2)) == (1, 2, 1, 2)
    assert P.sizefilter((fs(1), fs(2)), 1) == fs(fs(1), fs(2))
    assert P.colorfilter((fs((1, (0, 0))),), 1) == fs(fs((1, (0, 0))))


def test_patch_primitives_accept_tuples_of_cells():
    cells = ((1, (0, 0)), (1, (0, 1)))
    assert P.toindices(cells) == fs((0, 0), (0, 1))
    assert P.shift(cells, (1, 1)) == fs((1, (1, 1)), (1, (1, 2)))
    assert P.uppermost(cells) == 0 and P.rightmost(cells) == 1
    assert P.paint(((0, 0),), cells) == ((1, 1),)


# --- kind errors ---------------------------------------------------------------------------------

MIXED_PATCH = fs((1, (0, 0)), (0, 1))


@pytest.mark.parametrize("name, args", [
    ("add", (G, 1)), ("add", (G, G)), ("add", (((1, 2), (3, 4)), 1)), ("multiply", (2, G)),
    ("subtract", (fs(1), 1)), ("divide", (OBJ, 2)), ("invert", (G,)), ("double", ((1, 2, 3),)),
    ("halve", (fs(),)), ("increment", (None,)), ("crement", ((1, (2,)),)), ("sign", (G,)),
    ("even", ((1, 2),)), ("positive", ((1, 2),)), ("greater", (fs(1, 2), fs(1))), ("greater", (1, (1, 2))),
    ("size", (5,)), ("contained", (1, 5)), ("combine", (1, (1,))), ("intersection", ((1,), (1,))),
    ("difference", (5, fs())), ("dedupe", (fs(1),)), ("mostcommon", (fs(1, 2),)), ("insert", (1, (1,))),
    ("merge", ((1, 2),)), ("merge", (fs(1, 2),)), ("first", (5,)), ("totuple", (5,)),
    ("rbind", (5, 1)), ("lbind", ((1, 2), 1)), ("power", (INCREMENT, (1, 2))),
    ("repeat", (1, (2,))), ("interval", (0, (5,), 1)),
    ("toindices", (MIXED_PATCH,)), ("shift", (MIXED_PATCH, (1, 1))), ("uppermost", (MIXED_PATCH,)),
    ("toindices", (fs(1, 2),)), ("toindices", (fs((1, 2, 3)),)), ("height", (5,)),
    ("paint", (G, IND)), ("upscale", (IND, 2)), ("hperiod", (fs((0, 0), (0, 1)),)),
    ("occurrences", (G, IND)), ("mostcolor", (fs(1, 2),)), ("palette", (5,)),
    ("fill", (OBJ, 1, IND)), ("crop", (OBJ, (0, 0), (1, 1))), ("rot90", (OBJ,)),
    ("hconcat", (OBJ, OBJ)), ("vconcat", (G, OBJ)), ("tophalf", (OBJ,)),
    ("index", (G, (0, (1, 2)))), ("canvas", (0, 5)), ("dneighbors", (5,)),
    ("connect", ((0, 0), fs((1, (0, 0)), (2, (0, 1))))), ("connect", (5, OBJ)), ("connect", (G2, (0, 0))),
    ("objects", (OBJ, True, False, True)), ("hmirror", (5,)),
])
def test_wrong_kinds_are_type_errors(name, args):
    assert status_of(getattr(P, name), *args) is Status.TYPE_ERROR


def test_kind_errors_name_the_primitive():
    with pytest.raises(DSLTypeError, match="add"):
        P.add(G, 1)
    with pytest.raises(DSLTypeError, match="toindices: a patch must be all cells"):
        P.toindices(MIXED_PATCH)
    with pytest.raises(DSLRuntimeError, match="argmax: the container is empty"):
        P.argmax(fs(), SIZE)


# --- function builders ---------------------------------------------------------------------------

def test_compose_chain_matcher_fork_build_function_values():
    f = P.compose(SIZE, FIRST)
    assert isinstance(f, fn.Compose) and f(((1, 2), (3,))) == 2
    assert P.chain(INCREMENT, DOUBLE, SIZE)((1, 2, 3)) == 7
    assert P.matcher(SIZE, 2)((1, 2)) is True and P.matcher(SIZE, 2)((1,)) is False
    assert P.fork(ADD, SIZE, SIZE)((1, 2)) == 4
    assert P.compose(SIZE, FIRST) == P.compose(SIZE, FIRST)


def test_rbind_lbind():
    assert P.rbind(SUBTRACT, 1)(5) == 4
    assert P.lbind(SUBTRACT, 10)(3) == 7
    fill_on_grid = P.lbind(prim("fill"), ((0, 0),))
    assert fill_on_grid.arity == 2 and fill_on_grid(7, fs((0, 1))) == ((0, 7),)
    objects_of = P.rbind(prim("objects"), True)
    assert objects_of.arity == 3
    assert objects_of(((1, 0),), True, False) == fs(fs((1, (0, 0))))


def test_power():
    assert P.power(INCREMENT, 1) is INCREMENT
    assert P.power(INCREMENT, True) is INCREMENT
    assert P.power(INCREMENT, 3)(0) == 3
    assert P.power(P.compose(DOUBLE, INCREMENT), 2)(1) == 10


# --- steps through a Budget ----------------------------------------------------------------------

def _steps(call, *args):
    budget = fn.Budget()
    with fn.active(budget):
        result = call(*args)
    return result, budget.steps


def test_higher_order_primitives_count_every_call():
    assert _steps(P.apply, INCREMENT, (1, 2, 3)) == ((2, 3, 4), 3)
    assert _steps(P.apply, P.compose(INCREMENT, INCREMENT), fs(1, 2)) == (fs(3, 4), 4)
    assert _steps(P.argmax, fs((1, 2), (3,)), SIZE) == ((1, 2), 2)
    assert _steps(P.order, (3, 1), P.fork(ADD, INCREMENT, INCREMENT)) == ((1, 3), 6)
    assert _steps(P.power(INCREMENT, 4), 0) == (4, 4)
    assert _steps(P.extract, (1, 2, 3, 4), EVEN) == (2, 2)
    assert _steps(P.sfilter, fs(1, 2, 3), EVEN) == (fs(2), 3)
    assert _steps(P.mfilter, fs(fs(1), fs(2, 3)), P.compose(EVEN, SIZE)) == (fs(2, 3), 4)
    assert _steps(P.mapply, DNEIGHBORS, fs((0, 0), (5, 5)))[1] == 2
    assert _steps(P.prapply, ADD, fs(1, 2), (10, 20, 30))[1] == 6
    assert _steps(P.papply, ADD, (1, 2), (3, 4, 5)) == ((4, 6), 2)
    assert _steps(P.rapply, (INCREMENT, DOUBLE, P.compose(INCREMENT, DOUBLE)), 1) == ((2, 2, 3), 4)


def test_valmax_of_an_empty_container_calls_the_key_on_zero():
    budget = fn.Budget()
    with fn.active(budget):
        with pytest.raises(DSLTypeError):
            P.valmax((), SIZE)
    assert budget.steps == 1


def test_direct_primitive_calls_take_no_steps():
    assert _steps(P.move, G, fs((3, (2, 2))), (-1, 0))[1] == 0
    assert _steps(P.mfilter, fs(fs(1)), P.compose(EVEN, SIZE))[1] == 2


def test_step_limit_inside_a_higher_order_primitive():
    budget = fn.Budget(max_steps=2)
    with fn.active(budget):
        with pytest.raises(StepLimitExceeded):
            P.apply(INCREMENT, fs(1, 2, 3))
    assert budget.steps == 2


def test_a_failure_inside_apply_is_the_canonical_orders_failure():
    # Canonical order: 3, (), (1,). increment(3) works, increment(()) is the first failure,
    # a runtime error after two steps, whatever order Python's set iterates in.
    for items in (fs(3, (), (1,)), fs((1,), (), 3)):
        budget = fn.Budget()
        with fn.active(budget):
            with pytest.raises(DSLRuntimeError):
                P.apply(INCREMENT, items)
        assert budget.steps == 2
    budget = fn.Budget()
    with fn.active(budget):
        with pytest.raises(DSLRuntimeError):
            P.prapply(ADD, fs(1, 2), fs(5, (), (1,)))  # b is the outer loop: 5, (), (1,)
    assert budget.steps == 3


def test_colorfilter_failure_is_the_canonical_orders_failure():
    # Canonical order of the objects: () then frozenset(); the empty tuple fails first.
    with pytest.raises(DSLRuntimeError):
        P.colorfilter(fs(fs(), (), (0,)), 1)


# --- size pre-checks -----------------------------------------------------------------------------

SMALL_CAP = 100


@pytest.mark.parametrize("name, args", [
    ("product", (tuple(range(11)), tuple(range(10)))),
    ("repeat", (0, 101)),
    ("interval", (0, 101, 1)),
    ("interval", (0, 1000, 5)),
    ("canvas", (0, (11, 10))),
    ("upscale", (((0, 0, 0), (0, 0, 0), (0, 0, 0)), 4)),
    ("upscale", (fs((0, (0, 0)), (0, (0, 1))), 8)),
    ("hupscale", (((0, 0, 0), (0, 0, 0), (0, 0, 0)), 12)),
    ("vupscale", (((0, 0, 0), (0, 0, 0), (0, 0, 0)), 12)),
    ("prapply", (ADD, tuple(range(11)), tuple(range(10)))),
])
def test_known_size_outputs_are_refused_past_the_cap(name, args):
    budget = fn.Budget(max_value_size=SMALL_CAP)
    with fn.active(budget):
        with pytest.raises(SizeLimitExceeded):
            getattr(P, name)(*args)
    assert budget.steps == 0


def test_known_size_outputs_at_the_cap_are_built():
    with fn.active(fn.Budget(max_value_size=SMALL_CAP)):
        assert len(P.product(tuple(range(10)), tuple(range(10)))) == 100
        assert len(P.repeat(0, 100)) == 100
        assert len(P.interval(0, 100, 1)) == 100
        assert P.shape(P.canvas(0, (10, 10))) == (10, 10)
        assert P.shape(P.upscale(((0,),), 10)) == (10, 10)


def test_huge_canvas_is_refused_before_it_is_built():
    with fn.active(fn.Budget()):
        with pytest.raises(SizeLimitExceeded):
            P.canvas(0, (10**6, 10**6))
        with pytest.raises(SizeLimitExceeded):
            P.repeat(G, 10**9)


# --- differential test against arc-dsl, where it is order-insensitive ----------------------------



def _load_arc_dsl(folder: Path):
    path = folder / "dsl.py"
    if not path.is_file() or not (folder / "arc_types.py").is_file():
        return None
    sys.path.insert(0, str(folder))
    try:
        spec = importlib.util.spec_from_file_location("arc_dsl_reference_dsl", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(folder))
    return module




def _outcome(call, *args):
    try:
        return "ok", call(*args)
    except Exception as e:  # noqa: BLE001 - compared by status
        return "error", status_of_exception(e)


DIFFERENTIAL = {
    "add": "pp", "subtract": "ip", "multiply": "pi", "divide": "pi", "invert": "p", "double": "p",
    "halve": "i", "crement": "p", "sign": "p", "height": "x", "width": "x", "shape": "g",
    "portrait": "x", "colorcount": "gc", "asindices": "g", "ofcolor": "gc", "ulcorner": "x",
    "urcorner": "x", "llcorner": "x", "lrcorner": "x", "crop": "gpp", "toindices": "x",
    "recolor": "cx", "shift": "xp", "normalize": "x", "dneighbors": "p", "ineighbors": "p",
    "neighbors": "p", "objects": "gbbb", "partition": "g", "fgpartition": "g", "uppermost": "x",
    "lowermost": "x", "leftmost": "x", "rightmost": "x", "square": "x", "vline": "x",
    "hline": "x", "hmatching": "xx", "vmatching": "xx", "manhattan": "xx", "adjacent": "xx",
    "bordering": "xg", "centerofmass": "x", "palette": "g", "numcolors": "o", "toobject": "xg",
    "asobject": "g", "rot90": "g", "rot180": "g", "rot270": "g", "hmirror": "x", "vmirror": "x",
    "dmirror": "x", "cmirror": "x", "fill": "gcx", "underfill": "gcx", "hupscale": "gi",
    "vupscale": "gi", "upscale": "oi", "downscale": "gi", "hconcat": "gg", "vconcat": "gg",
    "subgrid": "xg", "hsplit": "gi", "vsplit": "gi", "cellwise": "ggc", "replace": "gcc",
    "switch": "gcc", "center": "x", "position": "xx", "index": "gp", "canvas": "cp",
    "corners": "x", "connect": "pp", "cover": "gx", "trim": "g", "tophalf": "g",
    "bottomhalf": "g", "lefthalf": "g", "righthalf": "g", "vfrontier": "p", "hfrontier": "p",
    "backdrop": "x", "delta": "x", "gravitate": "xx", "inbox": "x", "outbox": "x", "box": "x",
    "shoot": "pp", "occurrences": "go", "frontiers": "g", "compress": "g", "hperiod": "o",
    "vperiod": "o", "mostcolor": "g", "leastcolor": "g", "paint": "gu", "underpaint": "gu",
    "move": "gup",
}


def _generators(rng):
    def grid():
        h, w = rng.randint(1, 5), rng.randint(1, 5)
        return tuple(tuple(rng.randrange(3) for _ in range(w)) for _ in range(h))

    def loc():
        return (rng.randint(-1, 5), rng.randint(-1, 5))

    def obj():
        return frozenset((rng.randrange(3), loc()) for _ in range(rng.randint(1, 6)))

    def unique_obj():  # at most one cell per location, where paint order cannot show
        return frozenset({l: (rng.randrange(3), l) for l in (loc() for _ in range(rng.randint(1, 6)))}.values())

    def patch():
        return obj() if rng.random() < 0.5 else frozenset(loc() for _ in range(rng.randint(1, 6)))

    return {
        "g": grid, "o": obj, "u": unique_obj, "x": patch, "p": lambda: (rng.randint(-3, 3), rng.randint(-3, 3)),
        "i": lambda: rng.randint(-2, 4), "c": lambda: rng.randrange(3), "b": lambda: rng.random() < 0.5,
    }


@pytest.mark.arcdsl
def test_differential_against_arc_dsl(arc_dsl_dir):
    arc = _load_arc_dsl(arc_dsl_dir)
    assert arc is not None, f"--arc-dsl {arc_dsl_dir}: no dsl.py and arc_types.py there"
    rng = random.Random(20240611)
    gen = _generators(rng)
    mismatches = []
    for name, kinds in DIFFERENTIAL.items():
        for _ in range(40):
            args = tuple(gen[k]() for k in kinds)
            theirs, ours = _outcome(getattr(arc, name), *args), _outcome(getattr(P, name), *args)
            if theirs != ours:
                mismatches.append((name, args, theirs, ours))
    assert not mismatches, mismatches[:5]


# --- guards against runaway work on huge coordinates -----------------------------------------------

def test_huge_lines_and_boxes_are_refused_past_the_cap():
    far = fs((0, 0), (10**7, 10**7))
    with fn.active(fn.Budget()):
        for call, args in ((P.connect, ((0, 0), (0, 10**7))), (P.connect, ((0, 0), (10**7, 10**7))),
                           (P.backdrop, (far,)), (P.delta, (far,)), (P.box, (far,)),
                           (P.inbox, (far,)), (P.outbox, (far,))):
            with pytest.raises(SizeLimitExceeded):
                call(*args)
        assert P.connect((0, 0), (3, 10**7)) == fs()  # not a line: nothing to build


def test_period_of_a_very_wide_sparse_object_is_quick_and_exact():
    assert P.hperiod(fs((1, (0, 0)), (1, (0, 10**9)))) == 10**9
    assert P.hperiod(fs((1, (0, 0)), (1, (0, 3)), (1, (0, 6)))) == 3
    assert P.vperiod(fs((1, (0, 0)), (2, (1, 0)), (1, (4, 0)), (2, (5, 0)))) == 4


def test_long_loops_inside_a_primitive_check_the_deadline():
    import time
    budget = fn.Budget(deadline=time.perf_counter() - 1.0)
    with fn.active(budget):
        with pytest.raises(TimeLimitExceeded):
            P.manhattan(IND, P2)
        with pytest.raises(TimeLimitExceeded):
            P.occurrences(G, OBJ)
