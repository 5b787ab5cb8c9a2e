// A JavaScript handler served by tests/serve/serve-tests.sh through a config file.
function add(a, b) {
    return { sum: a + b, from: "js" };
}
