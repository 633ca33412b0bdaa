x1 = objects(I, T, T, T)
x2 = argmax(x1, size)
x3 = subgrid(x2, I)
O = upscale(x3, TWO)
