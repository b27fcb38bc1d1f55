// The application object. Nothing runs at launch: the login page reads its scene from its own
// query, and the silent login runs when a page first needs it (lib/auth.js).
App({});
