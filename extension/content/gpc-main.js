// Global Privacy Control for the page's own scripts: navigator.globalPrivacyControl === true, as the
// `Sec-GPC: 1` header says to the server. Registered by the worker (background/gpc.js) in the MAIN world
// at document_start, in every frame, only on the hosts where GPC is sent; where it is not, this file never
// runs and the page sees what the browser itself says. Defines a getter on Navigator.prototype, as the
// browsers that implement GPC do, so `"globalPrivacyControl" in navigator` holds too.
(() => {
  try {
    Object.defineProperty(Navigator.prototype, "globalPrivacyControl", {
      get() {
        return true;
      },
      configurable: true,
      enumerable: true,
    });
  } catch {
    // A page that got there first with a non-configurable property keeps it; the header still goes.
  }
})();
