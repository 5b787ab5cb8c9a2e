function counter() { var n = 0; return {inc: function () { return ++n; }, get: function () { return n; }}; }
var c1 = counter(), c2 = counter();
c1.inc(); c1.inc(); c2.inc();
print(c1.get(), c2.get());
var fs = []; for (var i = 0; i < 3; i++) fs.push((function (j) { return function () { return j * j; }; })(i));
print(fs.map(function (f) { return f(); }));
var late = []; for (var k = 0; k < 3; k++) late.push(function () { return k; });
print(late[0](), late[2]());
function curry(f) { return function (a) { return function (b) { return f(a, b); }; }; }
print(curry(function (a, b) { return a + '-' + b; })('x')('y'));
function memo(f) { var cache = {}; return function (n) { return n in cache ? cache[n] : (cache[n] = f(n)); }; }
var fib = memo(function (n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); });
print(fib(30), fib(40)); // MuJS's call depth limit is below 100 frames (native too)
print((function () { return typeof arguments + arguments.length; })(1, 2, 3));
var self = (function () { return this; })(); print(self === this, typeof self);
var adder = function add(n) { return n ? n + add(n - 1) : 0; }; print(adder(10), typeof add);
print((function (a, b) { 'use strict'; a = 5; return arguments[0]; })(1));
print((function (a) { a = 5; return arguments[0]; })(1));
