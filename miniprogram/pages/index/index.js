// The mini program's own home page: an example of the silent login that other pages import.
const auth = require('../../lib/auth.js');
const { messageFor } = require('../../lib/qr-login.js');

Page({
  data: { user: null, message: '' },

  onLoad() {
    return this.refreshUser();
  },

  async refreshUser() {
    try {
      const user = await auth.ensureLogin();
      this.setData({ user, message: '' });
    } catch (e) {
      this.setData({ message: messageFor(e) });
    }
  },

  /** Shares the phone number: a new silent login with the getPhoneNumber code adds it to the account. */
  async onGetPhoneNumber(e) {
    const code = e && e.detail && e.detail.code;
    if (!code) return;
    try {
      const user = await auth.login(code);
      this.setData({ user, message: '' });
    } catch (err) {
      this.setData({ message: messageFor(err) });
    }
  },

  onLogout() {
    auth.logout();
    this.setData({ user: null });
  }
});
