x1 = asindices(I)
x2 = box(x1)
O = fill(I, EIGHT, x2)
