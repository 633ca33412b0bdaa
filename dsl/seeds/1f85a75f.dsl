x1 = objects(I, T, T, T)
x2 = argmax(x1, size)
O = subgrid(x2, I)
