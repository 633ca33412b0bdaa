x1 = objects(I, F, T, T)
x2 = first(x1)
x3 = subgrid(x2, I)
O = vmirror(x3)
