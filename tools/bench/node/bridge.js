// A Twilio Media Streams server of the shape of Twilio's Node sample: an
// http server and a ws WebSocketServer on it, each message JSON.parse'd
// and switched on its event.  Here each media message's payload goes back
// as outbound media to the same streamSid, what the module's echo mode
// does; "stop" closes with 1000.  make bench BENCH=side runs it beside
// the module, on the same load.
//
//   node bridge.js PORT

'use strict';

const http = require('http');
const WebSocket = require('ws');

const server = http.createServer();
const wss = new WebSocket.Server({ server });

wss.on('connection', (ws) => {
  ws.on('message', (message) => {
    const msg = JSON.parse(message);

    switch (msg.event) {
      case 'connected':
      case 'start':
        break;

      case 'media':
        ws.send(JSON.stringify({
          event: 'media',
          streamSid: msg.streamSid,
          media: { payload: msg.media.payload },
        }));
        break;

      case 'stop':
        ws.close(1000);
        break;
    }
  });
});

server.listen(Number(process.argv[2]), '127.0.0.1');
