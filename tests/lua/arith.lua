print(7 // 2, 7 % -3, -7 // 2, 7 / 2, 2^53, math.maxinteger, math.mininteger, 1e308 * 10, -(0/0) ~= -(0/0))
print(math.floor(-3.5), math.ceil(3.2), math.sqrt(2), math.sin(1), math.cos(1), math.exp(1), math.log(10), math.log(8, 2))
print(math.fmod(7, 3), math.tointeger(3.0), math.type(1), math.type(1.0), math.abs(-5), math.ult(1, -1), 3 | 5, 3 ~ 5, ~0, 1 << 62)
print(tostring(1e15), tostring(1e16), 0.1 + 0.2, 100 // 1e0, string.format("%.17g", 0.1))
