function thrower(kind) {
    if (kind === 1) throw new RangeError('range');
    if (kind === 2) throw {code: 42};
    if (kind === 3) null.x;
    if (kind === 4) undefinedName;
    return 'ok';
}
for (var i = 0; i < 5; i++) {
    try { print(thrower(i)); }
    catch (e) { print(typeof e, e.name, e.message, e.code, e instanceof Error); }
    finally { print('finally', i); }
}
function f() { try { return 'try'; } finally { print('cleanup'); } }
print(f());
function g() { try { throw 1; } catch (e) { return 'catch ' + e; } finally { print('g done'); } }
print(g());
try { try { throw new Error('inner'); } finally { print('inner finally'); } } catch (e) { print('outer', typeof e); } // MuJS 1.3.2: e is undefined after a finally rethrows (native too)
function MyError(m) { this.message = m; }
MyError.prototype = Object.create(Error.prototype); MyError.prototype.name = 'MyError';
try { throw new MyError('custom'); } catch (e) { print(e.name, e.message, e instanceof Error); }
try { eval('1 +'); } catch (e) { print(e.name); }
try { new Array(-1); } catch (e) { print(e.name, e.message); }
try { (1).toFixed(200); } catch (e) { print(e.name); }
print(String(new TypeError('t')), new Error().message === '');
