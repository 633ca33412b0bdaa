x1 = fgpartition(I)
x2 = merge(x1)
x3 = subgrid(x2, I)
O = crop(x3, ORIGIN, THREE_BY_THREE)
