x1 = switch(I, ONE, FIVE)
x2 = switch(x1, TWO, SIX)
x3 = switch(x2, THREE, FOUR)
O = switch(x3, EIGHT, NINE)
