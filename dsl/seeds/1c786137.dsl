x1 = objects(I, T, F, F)
x2 = argmax(x1, size)
x3 = subgrid(x2, I)
O = trim(x3)
