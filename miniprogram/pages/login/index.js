// Opened by scanning a login QR code shown on a computer: shows which site and which browser
// asked, lets the person share a phone number, nickname and picture, then confirm or cancel.
const qrLogin = require('../../lib/qr-login.js');
const { sceneFrom } = require('../../lib/scene.js');

Page({
  data: {
    // loading → ready → done | canceled | refused | error
    state: 'loading',
    message: '',
    busy: false,
    session: null, // { appName, time, ip, userAgent }
    phoneShared: false,
    nickname: '',
    avatarPreview: '', // the local picture, shown while it uploads
    avatarUrl: '', // the gateway URL it was uploaded to: what the profile carries
    errorCode: ''
  },

  onLoad(query) {
    this.scene = sceneFrom(query);
    this.scanToken = null;
    this.phoneCode = null;
    if (!this.scene) {
      this.fail('This page opens when you scan a login QR code with WeChat.');
      return Promise.resolve();
    }
    return this.scan();
  },

  async scan() {
    this.setData({ state: 'loading', message: '' });
    try {
      const scanned = await qrLogin.scan(this.scene);
      this.scanToken = scanned.scanToken;
      const s = scanned.session || {};
      this.setData({
        state: 'ready',
        session: { appName: s.appName, time: qrLogin.formatTime(s.createdAt), ip: s.ip, userAgent: s.userAgent }
      });
    } catch (e) {
      this.fail(qrLogin.messageFor(e), e);
    }
  },

  onRetry() {
    return this.scene ? this.scan() : Promise.resolve();
  },

  onGetPhoneNumber(e) {
    const detail = (e && e.detail) || {};
    if (detail.code) {
      this.phoneCode = detail.code;
      this.setData({ phoneShared: true, message: '' });
    } else {
      this.setData({ message: 'The phone number was not shared. You can log in without it.' });
    }
  },

  onNicknameInput(e) {
    this.setData({ nickname: (e && e.detail && e.detail.value) || '' });
  },

  async onChooseAvatar(e) {
    const local = e && e.detail && e.detail.avatarUrl;
    if (!local || !this.scanToken) return;
    this.setData({ avatarPreview: local, avatarUrl: '', busy: true, message: '' });
    try {
      const url = await qrLogin.uploadAvatar(this.scanToken, local);
      this.setData({ avatarUrl: url, busy: false });
    } catch (err) {
      this.setData({ avatarPreview: '', busy: false, message: qrLogin.messageFor(err) });
    }
  },

  async onConfirm() {
    if (this.data.busy || this.data.state !== 'ready') return;
    this.setData({ busy: true, message: '' });
    try {
      const result = await qrLogin.confirm(this.scene, this.scanToken, {
        phoneCode: this.phoneCode,
        nickname: this.data.nickname,
        avatarUrl: this.data.avatarUrl
      });
      if (result.ok) {
        this.setData({ state: 'done', busy: false, message: 'You are logged in on the computer. You can close this page.' });
      } else {
        this.setData({ state: 'refused', busy: false, message: qrLogin.messageFor(result.error) });
      }
    } catch (err) {
      this.answerFailure(err);
    }
  },

  async onCancel() {
    if (this.data.busy || this.data.state !== 'ready') return;
    this.setData({ busy: true, message: '' });
    try {
      await qrLogin.cancel(this.scene, this.scanToken);
      this.setData({ state: 'canceled', busy: false, message: 'Login canceled. Nothing was shared.' });
    } catch (err) {
      this.answerFailure(err);
    }
  },

  onClose() {
    if (typeof wx.exitMiniProgram === 'function') wx.exitMiniProgram({});
  },

  /** A network error can be retried in place; anything the gateway refused ends the page. */
  answerFailure(err) {
    if (err && err.code === 'network_error') {
      this.setData({ busy: false, message: qrLogin.messageFor(err) });
    } else {
      this.setData({ busy: false });
      this.fail(qrLogin.messageFor(err), err);
    }
  },

  fail(message, err) {
    this.setData({ state: 'error', message, errorCode: (err && err.code) || '' });
  }
});
