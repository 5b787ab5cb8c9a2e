var xs = [0, -0, 1, -1.5, 0.1, 1 / 3, 2 / 3, 1e21, 1e-7, 123456789012345680000, 1.7976931348623157e308,
    5e-324, NaN, Infinity, -Infinity, 0.000001, 100, 255, 3.14159];
xs.forEach(function (x) {
    print(String(x), x.toFixed(2), x.toPrecision(4), x.toExponential(3), x.toString(16), x.toString(2).length);
});
print(parseInt('0x1f'), parseInt('08'), parseInt('12px', 10), parseInt('z', 36), parseFloat('3.5e2abc'), Number(''), Number(' 12 '), Number('1e1000'));
print(1 / 0, -1 / 0, 0 / 0, 7 % -3, -7 % 3, 2 * 0.1, 0.1 * 3, 9007199254740993);
print(Math.max(), Math.min(1, 2), Math.round(-0.5), Math.round(2.5), Math.floor(-1.5), Math.ceil(1.2), Math.abs(-3));
print(Math.sqrt(2), Math.pow(2, 0.5), Math.exp(1), Math.log(10), Math.sin(1), Math.atan2(1, 2), Math.cos(Math.PI));
print((1234.5678).toFixed(1), (0.5).toFixed(0), (1.005).toFixed(2), (-1.5).toFixed(0), (1e21).toFixed(2));
print(~~3.7, 5 >>> 1, -5 >> 1, -5 >>> 28, 1 << 31, 0xff & 0x0f, 3 ^ 5);
