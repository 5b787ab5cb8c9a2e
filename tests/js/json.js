var o = JSON.parse('{"a": [1, 2.5, -3e2, true, null], "b": {"c": "d\\u00e9\\n"}, "e": ""}');
print(o.a.length, o.a[2], typeof o.a[4], o.b.c.length);
print(JSON.stringify(o));
print(JSON.stringify(o, null, 2));
print(JSON.stringify({x: undefined, f: function () {}, n: NaN, i: -Infinity, d: new Date(0)}));
print(JSON.stringify([undefined, "\u2028\"\\/\t"]));
print(JSON.stringify({a: 1, b: [1, 2]}, function (k, v) { return typeof v === 'number' ? v * 10 : v; }));
print(JSON.stringify({a: 1, b: 2, c: 3}, ['c', 'a']));
print(JSON.parse('[1, {"x": 2}]', function (k, v) { return typeof v === 'number' ? v + 1 : v; })[1].x);
try { JSON.parse('{bad}'); } catch (e) { print(e.name, e.message); }
try { JSON.parse('[1,]'); } catch (e) { print(e.name, e.message); }
var cyc = {}; cyc.self = cyc;
try { JSON.stringify(cyc); } catch (e) { print(e.name, e.message); }
print(JSON.stringify("日本語"), JSON.stringify(1e21), JSON.stringify(0.1));
