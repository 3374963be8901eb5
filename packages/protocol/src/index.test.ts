import { describe, it, expect } from 'vitest';
import * as protocol from './index.ts';

describe('@sibyl/protocol public surface', () => {
  it('exports exactly the public values', () => {
    expect(Object.keys(protocol).sort()).toEqual(
      [
        'CODE_CLASS',
        'CODE_STATUS',
        'CONTENTS_FIELD',
        'classOf',
        'faultOf',
        'isInputFault',
        'isRetriable',
        'isServerFault',
        'isUnexpectedServerFault',
        'GRPC_ERROR_METADATA',
        'GRPC_LOADER_OPTIONS',
        'GRPC_PROTO_FILES',
        'decodeGrpcInferRequest',
        'checkGrpcInferRequestWire',
        'decodeGrpcInferResponse',
        'encodeGrpcInferRequest',
        'encodeGrpcInferResponse',
        'parametersFromGrpc',
        'parametersToGrpc',
        'parseJsonExact',
        'tensorDataFromJson',
        'tensorDataToNestedJson',
        'DATATYPES',
        'ERROR_CODES',
        'GRPC_STATUS',
        'REASONS',
        'REQUEST_LIMITS',
        'MAX_LOOKUP_KEYS',
        'MAX_REQUEST_ID_LENGTH',
        'limitExceeded',
        'countBytesElements',
        'countTensorElements',
        'MAX_NAME_LENGTH',
        'NAME_RULE',
        'checkName',
        'nameError',
        'nameProblem',
        'SibylError',
        'TYPED_ARRAY',
        'binaryOutputSelector',
        'codeOfHttpStatus',
        'reasonOfHttpStatus',
        'decodeBytesElements',
        'decodeInferRequest',
        'decodeInferRequestBinary',
        'decodeInferResponse',
        'decodeInferResponseBinary',
        'decodeRawInferRequest',
        'elementCount',
        'elementSize',
        'encodeBytesElements',
        'encodeInferRequest',
        'encodeInferRequestBinary',
        'encodeInferResponse',
        'encodeInferResponseBinary',
        'fromBFloat16Bits',
        'fromFloat16Bits',
        'grpcStatusOf',
        'httpStatusOf',
        'isBigIntDatatype',
        'isDatatype',
        'isErrorCode',
        'isErrorReason',
        'tensorDataFromBytes',
        'tensorDataToBytes',
        'toBFloat16Bits',
        'toFloat16Bits',
        'withTimeoutParameter',
      ].sort(),
    );
  });

  it('maps the client-side MALFORMED_RESPONSE reason to INTERNAL (HTTP 500)', () => {
    const e = new protocol.SibylError('MALFORMED_RESPONSE', 'bad');
    expect(e.code).toBe('INTERNAL');
    expect(e.httpStatus).toBe(500);
  });

  it('round-trips a request through the package entry point', () => {
    const request = protocol.decodeInferRequest('{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[[1,2]]}]}');
    expect(protocol.decodeInferRequest(protocol.encodeInferRequest(request))).toEqual(request);
  });
});
