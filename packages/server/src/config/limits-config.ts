// Hard limits on what one inference request may ask of the server, whatever entry it comes
// through (HTTP, gRPC, batch, embedding). Each refusal is a 4xx naming the limit and its value.
// The body and message sizes (http.bodyLimitBytes, grpc.maxMessageBytes) bound the bytes; these
// bound the tensors described by them and the answer the server builds.
import Type, { type Static } from 'typebox';

export const LimitsSchema = Type.Object(
  {
    maxTensorElements: Type.Integer({
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      default: 67108864,
      description:
        'Most elements one input tensor may have (the product of its shape), checked from the shape before its data is read or anything allocated; more gets 400 REQUEST_LIMIT_EXCEEDED. The default is what a 64 MiB body holds at one byte per element.',
    }),
    maxRequestElements: Type.Integer({
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      default: 67108864,
      description: 'Most elements the input tensors of one request may have together; more gets 400 REQUEST_LIMIT_EXCEEDED.',
    }),
    maxBytesElementBytes: Type.Integer({
      minimum: 1,
      maximum: 2 ** 31 - 1,
      default: 16777216,
      description: 'Longest element of a BYTES input (a text, an encoded image), in bytes; longer gets 400 REQUEST_LIMIT_EXCEEDED.',
    }),
    maxResponseBytes: Type.Integer({
      minimum: 1024,
      maximum: 2 ** 31 - 1,
      default: 67108864,
      description:
        "Largest answer a model may give to one request: the bytes of its output tensors' data (BYTES elements by their length), before encoding. A larger answer is not sent: the request gets 400 RESPONSE_TOO_LARGE (gRPC INVALID_ARGUMENT); send fewer rows per request.",
    }),
  },
  { additionalProperties: false, description: 'Hard limits on inference requests and their answers (see docs/security.md, Limits).' },
);

export type LimitsConfig = Static<typeof LimitsSchema>;
