# tritonclient.grpc (Python), replayed with the stock Python gRPC stack: grpcio (C core) and stubs
# that grpc_tools.protoc generates from the protocol's .proto, as tritonclient's own stubs are
# generated from Triton's grpc_service.proto. PyPI is out of reach, so tritonclient itself is not
# installed; this file repeats, from its source (tritonclient/grpc/_client.py, _infer_input.py,
# _requested_output.py, _infer_result.py, _utils.py), exactly how it fills each request message
# and reads each answer:
#   - ServerLive/ServerReady/ModelReady return `.live` / `.ready`; ModelReady(name, version="").
#   - infer(): ModelInferRequest(model_name, model_version, id only when non-empty), one
#     InferInputTensor(name, datatype, shape) per input with its bytes in raw_input_contents
#     (set_data_from_numpy: array.tobytes(); BYTES: serialize_byte_tensor, 4-byte little-endian
#     length before each element); InferRequestedOutput(class_count=k) sets
#     parameters["classification"].int64_param; priority goes in parameters["priority"].uint64_param
#     and timeout in parameters["timeout"].int64_param; client_timeout is the gRPC deadline.
#   - InferResult.as_numpy(name) reads raw_output_contents[index of the output] (np.frombuffer;
#     BYTES: deserialize_bytes_tensor), falling back to contents.bytes_contents.
#   - Errors raise InferenceServerException(msg=details(), status=str(code())).
#   - Streams: start_stream(callback) then async_stream_infer(); the callback gets
#     (result, None) or (None, error) when error_message is set.
#   - load_model(name, config=None): parameters["config"].string_param; unload_model(name):
#     parameters["unload_dependents"].bool_param = False.
# Usage: python3 tritonclient_grpc.py <stub dir> <host:port>; prints one JSON document.
import json
import queue
import struct
import sys

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
import grpc_service_pb2 as pb  # noqa: E402
import grpc_service_pb2_grpc as pb_grpc  # noqa: E402
import model_config_pb2 as mc  # noqa: E402

FORMATS = {"FP32": "f", "FP64": "d", "INT64": "q", "INT32": "i", "UINT8": "B", "BOOL": "?"}


class InferenceServerException(Exception):
    def __init__(self, msg, status):
        super().__init__(msg)
        self.msg = msg
        self.status = status


def raise_error_grpc(rpc_error):
    raise InferenceServerException(msg=rpc_error.details(), status=str(rpc_error.code())) from None


def serialize_byte_tensor(values):
    return b"".join(struct.pack("<I", len(v)) + v for v in values)


def deserialize_bytes_tensor(raw):
    out, p = [], 0
    while p < len(raw):
        (n,) = struct.unpack_from("<I", raw, p)
        out.append(raw[p + 4 : p + 4 + n])
        p += 4 + n
    return out


class InferInput:
    def __init__(self, name, shape, datatype):
        self._input = pb.ModelInferRequest().InferInputTensor()
        self._input.name = name
        self._input.ClearField("shape")
        self._input.shape.extend(shape)
        self._input.datatype = datatype
        self._raw_content = None

    def set_data_from_list(self, values):
        # What set_data_from_numpy leaves: the array's little-endian bytes in _raw_content.
        dt = self._input.datatype
        self._raw_content = serialize_byte_tensor(values) if dt == "BYTES" else struct.pack("<%d%s" % (len(values), FORMATS[dt]), *values)
        return self

    def _get_tensor(self):
        return self._input

    def _get_content(self):
        return self._raw_content


class InferRequestedOutput:
    def __init__(self, name, class_count=0):
        self._output = pb.ModelInferRequest().InferRequestedOutputTensor()
        self._output.name = name
        if class_count != 0:
            self._output.parameters["classification"].int64_param = class_count

    def _get_tensor(self):
        return self._output


class InferResult:
    def __init__(self, result):
        self._result = result

    def get_response(self):
        return self._result

    def as_numpy(self, name):
        index = 0
        for output in self._result.outputs:
            if output.name == name:
                dt = output.datatype
                if index < len(self._result.raw_output_contents):
                    raw = self._result.raw_output_contents[index]
                    if dt == "BYTES":
                        return [v.decode() for v in deserialize_bytes_tensor(raw)], list(output.shape)
                    n = len(raw) // struct.calcsize(FORMATS[dt])
                    return list(struct.unpack("<%d%s" % (n, FORMATS[dt]), raw)), list(output.shape)
                if len(output.contents.bytes_contents) != 0:
                    return [v.decode() for v in output.contents.bytes_contents], list(output.shape)
                return [], list(output.shape)
            index += 1
        return None


def get_inference_request(model_name, inputs, model_version, request_id, outputs, priority, timeout):
    request = pb.ModelInferRequest()
    request.model_name = model_name
    request.model_version = model_version
    if request_id != "":
        request.id = request_id
    for infer_input in inputs:
        request.inputs.extend([infer_input._get_tensor()])
        if infer_input._get_content() is not None:
            request.raw_input_contents.extend([infer_input._get_content()])
    if outputs is not None:
        for infer_output in outputs:
            request.outputs.extend([infer_output._get_tensor()])
    if priority != 0:
        request.parameters["priority"].uint64_param = priority
    if timeout is not None:
        request.parameters["timeout"].int64_param = timeout
    return request


class InferenceServerClient:
    def __init__(self, url):
        self._channel = grpc.insecure_channel(url, options=[("grpc.max_send_message_length", 2**31 - 1), ("grpc.max_receive_message_length", 2**31 - 1)])
        self._client_stub = pb_grpc.GRPCInferenceServiceStub(self._channel)
        self._stream_responses = None

    def close(self):
        self._channel.close()

    def _call(self, method, request, client_timeout=None):
        try:
            return getattr(self._client_stub, method)(request=request, metadata=(), timeout=client_timeout)
        except grpc.RpcError as rpc_error:
            raise_error_grpc(rpc_error)

    def is_server_live(self):
        return self._call("ServerLive", pb.ServerLiveRequest()).live

    def is_server_ready(self):
        return self._call("ServerReady", pb.ServerReadyRequest()).ready

    def is_model_ready(self, model_name, model_version=""):
        return self._call("ModelReady", pb.ModelReadyRequest(name=model_name, version=model_version)).ready

    def get_server_metadata(self):
        return self._call("ServerMetadata", pb.ServerMetadataRequest())

    def get_model_metadata(self, model_name, model_version=""):
        return self._call("ModelMetadata", pb.ModelMetadataRequest(name=model_name, version=model_version))

    def get_model_config(self, model_name, model_version=""):
        return self._call("ModelConfig", pb.ModelConfigRequest(name=model_name, version=model_version))

    def get_model_repository_index(self):
        return self._call("RepositoryIndex", pb.RepositoryIndexRequest())

    def get_inference_statistics(self, model_name="", model_version=""):
        return self._call("ModelStatistics", pb.ModelStatisticsRequest(name=model_name, version=model_version))

    def load_model(self, model_name, config=None):
        request = pb.RepositoryModelLoadRequest(model_name=model_name)
        if config is not None:
            request.parameters["config"].string_param = config
        self._call("RepositoryModelLoad", request)

    def unload_model(self, model_name, unload_dependents=False):
        request = pb.RepositoryModelUnloadRequest(model_name=model_name)
        request.parameters["unload_dependents"].bool_param = unload_dependents
        self._call("RepositoryModelUnload", request)

    def infer(self, model_name, inputs, model_version="", outputs=None, request_id="", priority=0, timeout=None, client_timeout=None):
        request = get_inference_request(model_name, inputs, model_version, request_id, outputs, priority, timeout)
        return InferResult(self._call("ModelInfer", request, client_timeout))

    def stream(self, requests, callback):
        """start_stream + async_stream_infer for each request + stop_stream, synchronously."""
        sent = queue.Queue()
        for r in requests:
            sent.put(get_inference_request(*r))
        sent.put(None)
        try:
            for response in self._client_stub.ModelStreamInfer(iter(sent.get, None), metadata=()):
                if response.error_message != "":
                    callback(result=None, error=InferenceServerException(msg=response.error_message, status=None))
                else:
                    callback(result=InferResult(response.infer_response), error=None)
        except grpc.RpcError as rpc_error:
            raise_error_grpc(rpc_error)


def error_of(fn):
    try:
        fn()
    except InferenceServerException as e:
        return {"status": e.status, "msg": e.msg}
    return None


def main():
    client = InferenceServerClient(sys.argv[2])
    out = {}
    out["live"] = client.is_server_live()
    out["ready"] = client.is_server_ready()
    meta = client.get_server_metadata()
    out["server"] = {"name": meta.name, "extensions": list(meta.extensions)}
    out["model_ready"] = [client.is_model_ready("linear"), client.is_model_ready("linear", "1"), client.is_model_ready("nope")]
    m = client.get_model_metadata("linear")
    out["metadata"] = {"name": m.name, "versions": list(m.versions), "platform": m.platform, "inputs": [[t.name, t.datatype, list(t.shape)] for t in m.inputs], "outputs": [[t.name, t.datatype, list(t.shape)] for t in m.outputs]}
    c = client.get_model_config("linear").config
    out["config"] = {"name": c.name, "max_batch_size": c.max_batch_size, "input": [[t.name, mc.DataType.Name(t.data_type), list(t.dims)] for t in c.input]}

    rows = [1.0, 2.0, 3.0, 4.0, -1.0, 0.5, 0.0, 2.0]
    result = client.infer("linear", [InferInput("features", [2, 4], "FP32").set_data_from_list(rows)], request_id="py-1", priority=1, timeout=5_000_000, client_timeout=10)
    out["infer"] = {"id": result.get_response().id, "model_version": result.get_response().model_version, "logits": result.as_numpy("logits"), "probabilities": result.as_numpy("probabilities")}
    a = [9007199254740993, -9223372036854775807, 1]
    b = [2, -1, -1]
    result = client.infer("addsub", [InferInput("a", [1, 3], "INT64").set_data_from_list(a), InferInput("b", [1, 3], "INT64").set_data_from_list(b)], outputs=[InferRequestedOutput("sum")])
    out["int64"] = {"outputs": [o.name for o in result.get_response().outputs], "sum": result.as_numpy("sum")}
    result = client.infer("strings", [InferInput("input", [1, 3], "BYTES").set_data_from_list(["héllo".encode(), b"", b"x"])])
    out["bytes"] = result.as_numpy("output")
    result = client.infer("linear", [InferInput("features", [1, 4], "FP32").set_data_from_list(rows[:4])], outputs=[InferRequestedOutput("probabilities", class_count=2)])
    out["classification"] = result.as_numpy("probabilities")

    out["errors"] = {
        "unknown_model": error_of(lambda: client.infer("nope", [InferInput("features", [1, 4], "FP32").set_data_from_list(rows[:4])])),
        "wrong_shape": error_of(lambda: client.infer("linear", [InferInput("features", [1, 3], "FP32").set_data_from_list(rows[:3])])),
        "not_ready": error_of(lambda: client.infer("corrupt", [InferInput("features", [1, 4], "FP32").set_data_from_list(rows[:4])])),
        "load": error_of(lambda: client.load_model("linear")),
        "unload": error_of(lambda: client.unload_model("linear")),
    }

    answers = []
    client.stream(
        [
            ("linear", [InferInput("features", [1, 4], "FP32").set_data_from_list(rows[:4])], "", "s-1", None, 0, None),
            ("linear", [InferInput("features", [1, 3], "FP32").set_data_from_list(rows[:3])], "", "s-bad", None, 0, None),
        ],
        lambda result, error: answers.append({"id": result.get_response().id, "logits": result.as_numpy("logits")} if error is None else {"error": error.msg}),
    )
    out["stream"] = answers
    index = client.get_model_repository_index()
    out["index"] = sorted({(m.name, m.state) for m in index.models})
    stats = client.get_inference_statistics("linear")
    out["statistics"] = [{"name": s.name, "version": s.version, "inference_count": s.inference_count, "execution_count": s.execution_count} for s in stats.model_stats]
    client.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
