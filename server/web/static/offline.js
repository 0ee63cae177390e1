/* Журнал: registers the service worker (/sw.js) that keeps the last diary weeks opened for
   reading without a link. A page the worker did not serve (the first visit) is handed to it to
   keep; only pages marked data-offline by the server ask. No inline script: the CSP allows
   scripts from 'self' only. */
"use strict";
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").then(() => navigator.serviceWorker.ready).then((reg) => {
    if (!navigator.serviceWorker.controller && document.documentElement.dataset.offline) {
      reg.active.postMessage({ save: location.href });
    }
  }).catch(() => {});
}
