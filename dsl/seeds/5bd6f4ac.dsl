x1 = tojvec(SIX)
O = crop(I, x1, THREE_BY_THREE)
