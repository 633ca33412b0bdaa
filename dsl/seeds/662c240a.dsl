x1 = vsplit(I, THREE)
x2 = fork(equality, identity, dmirror)
x3 = compose(flip, x2)
O = extract(x1, x3)
