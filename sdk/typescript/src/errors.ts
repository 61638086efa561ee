// The API's errors over gRPC: a google.rpc.Status whose details carry a
// google.rpc.ErrorInfo (reason = the contract's code: NOT_FOUND, TXN001, ...)
// and, for field errors, a google.rpc.BadRequest.

import { ConnectError } from "@connectrpc/connect";
import {
  type BadRequest_FieldViolation,
  BadRequestSchema,
  type ErrorInfo,
  ErrorInfoSchema,
} from "./gen/google/rpc/error_details_pb.js";

/** The ErrorInfo of a failed call, or undefined when it carries none. */
export function errorInfo(error: unknown): ErrorInfo | undefined {
  return ConnectError.from(error).findDetails(ErrorInfoSchema)[0];
}

/** The contract's error code (ErrorInfo.reason), or undefined. */
export function errorReason(error: unknown): string | undefined {
  return errorInfo(error)?.reason;
}

/** The field violations of a failed call (empty when there are none). */
export function fieldViolations(error: unknown): BadRequest_FieldViolation[] {
  return ConnectError.from(error)
    .findDetails(BadRequestSchema)
    .flatMap((detail) => detail.fieldViolations);
}
