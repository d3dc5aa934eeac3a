// danfojs-node requires '@tensorflow/tfjs-node' (a native TensorFlow build the kit does not use). package.json
// points that name here, so danfojs gets the kit's own @tensorflow/tfjs: one engine, one copy on disk.
'use strict';
module.exports = require('@tensorflow/tfjs');
