var o = {
    _v: 1,
    get v() { return this._v * 10; },
    set v(x) { this._v = x + 1; }
};
print(o.v); o.v = 4; print(o.v, o._v);
var c = {}; var n = 0;
Object.defineProperty(c, 'count', {get: function () { return ++n; }, enumerable: true});
print(c.count, c.count, JSON.stringify(c));
var ro = {get only() { return 'r'; }}; ro.only = 'w'; print(ro.only);
(function () { 'use strict'; try { ro.only = 'w'; } catch (e) { print(e.name); } })();
var d = Object.getOwnPropertyDescriptor(o, 'v'); print(typeof d.get, typeof d.set, d.enumerable);
