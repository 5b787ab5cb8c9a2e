function Animal(name) { this.name = name; }
Animal.prototype.speak = function () { return this.name + ' makes a sound'; };
function Dog(name) { Animal.call(this, name); }
Dog.prototype = Object.create(Animal.prototype);
Dog.prototype.constructor = Dog;
Dog.prototype.speak = function () { return Animal.prototype.speak.call(this) + ': woof'; };
var d = new Dog('rex');
print(d.speak(), d instanceof Dog, d instanceof Animal, Object.getPrototypeOf(d) === Dog.prototype);
print(d.hasOwnProperty('name'), d.hasOwnProperty('speak'), 'speak' in d);
print(Object.keys(d), Object.getOwnPropertyNames(Dog.prototype).sort());
var o = Object.create(null); print(typeof o.toString, Object.prototype.toString.call([]));
var frozen = Object.freeze({a: 1}); frozen.a = 2; print(frozen.a, Object.isFrozen(frozen));
var p = {}; Object.defineProperty(p, 'hidden', {value: 42, enumerable: false});
print(p.hidden, Object.keys(p).length, JSON.stringify(Object.getOwnPropertyDescriptor(p, 'hidden')));
print(Array.prototype.map.call('abc', function (c) { return c.toUpperCase(); }).join(''));
function F() {} F.prototype.x = 1; var f = new F(); F.prototype.x = 2; print(f.x);
print(typeof Function.prototype.bind, (function () { return this.v; }).bind({v: 7})());
