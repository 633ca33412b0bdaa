O = crop(I, ORIGIN, TWO_BY_TWO)
