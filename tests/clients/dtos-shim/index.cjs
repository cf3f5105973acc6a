// flowdm test shim for @voiceflow/dtos-interact (CommonJS twin of index.mjs).
'use strict';
const published = require('dtos-interact-published');

module.exports = {
  ...published,
  AudioEncoding: Object.freeze({ PCM: 'pcm', MULAW: 'mulaw', ALAW: 'alaw', OPUS: 'opus', MP3: 'mp3' }),
  Modality: Object.freeze({ CHAT: 'chat', VOICE: 'voice' }),
  RequestType: Object.freeze({ ...published.RequestType, END: 'end' }),
};
