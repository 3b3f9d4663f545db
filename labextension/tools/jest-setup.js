// jsdom lacks the fetch API classes JupyterLab's ServerConnection refers to when it builds its settings;
// tests hand in their own fetch, so small stand-ins for Headers and Request are enough.
if (typeof window.matchMedia !== 'function') {
  window.matchMedia = () => ({ matches: false, addListener() {}, removeListener() {}, addEventListener() {}, removeEventListener() {} });
}
if (typeof global.Headers === 'undefined') {
  global.Headers = class Headers {
    constructor(init) {
      this.map = new Map(Object.entries(init || {}).map(([k, v]) => [k.toLowerCase(), v]));
    }
    has(key) { return this.map.has(key.toLowerCase()); }
    get(key) { return this.map.get(key.toLowerCase()) ?? null; }
    set(key, value) { this.map.set(key.toLowerCase(), value); }
    append(key, value) { this.map.set(key.toLowerCase(), value); }
  };
}
if (typeof global.Request === 'undefined') {
  global.Request = class Request {
    constructor(url, init = {}) {
      this.url = url;
      this.init = init;
      this.method = init.method || 'GET';
      this.body = init.body;
      this.headers = new global.Headers(init.headers);
    }
  };
}
global.fetch = global.fetch || (() => Promise.reject(new TypeError('no fetch in unit tests')));
if (typeof global.DragEvent === 'undefined') {
  global.DragEvent = class DragEvent extends MouseEvent {};
}
