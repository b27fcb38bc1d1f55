// Where the gateway is and which of its identifiers this mini program uses: the one file a site
// owner edits before uploading (see README.md).
module.exports = {
  // The gateway's address. Add its host to the mini program's "request legal domains" and
  // "uploadFile legal domains" (WeChat requires https there; the developer tools can skip the check).
  gatewayUrl: 'https://login.example.com',
  // The gateway's server.publicUrl, when it differs from gatewayUrl: url-style QR codes carry
  // {publicUrl}/qr/{scene}.
  publicUrl: '',
  // The gateway application (OIDC client) this mini program's own pages log in to. It is a public
  // client: no appSecret in its configuration, as a mini program cannot keep one.
  appId: 'miniapp',
  // The gateway connection of type wechat-miniprogram-qrcode (PC site shows a code, this confirms).
  qrConnection: 'wechat-mini-qr',
  // The gateway connection of type wechat-miniprogram (silent login inside this mini program).
  loginConnection: 'wechat-mini',
  // Refresh the access token when it has less than this many seconds left.
  refreshBeforeSeconds: 300
};
