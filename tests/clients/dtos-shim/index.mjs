// flowdm test shim for @voiceflow/dtos-interact (see package.json): everything of the published
// 1.1.0, plus the names @voiceflow/sdk-runtime 1.69.1 imports that 1.1.0 does not have.
import * as published from 'dtos-interact-published';

export * from 'dtos-interact-published';

export const AudioEncoding = Object.freeze({
  PCM: 'pcm',
  MULAW: 'mulaw',
  ALAW: 'alaw',
  OPUS: 'opus',
  MP3: 'mp3',
});

export const Modality = Object.freeze({ CHAT: 'chat', VOICE: 'voice' });

export const RequestType = Object.freeze({ ...published.RequestType, END: 'end' });
