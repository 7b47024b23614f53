import { keyStringProblem } from '../json/key-string.ts';
import type { JsonPointer } from '../json/pointer.ts';
import { keyAtPointer, type DeliveryBody } from './delivery-body.ts';
import { fail } from './types.ts';
import type { DeliveryIdResult } from './types.ts';

/** Delivery ids are 1..256 characters, like DIS partition keys (the default partition key). */
export function checkDeliveryId(value: string): DeliveryIdResult {
  return keyStringProblem(value) === undefined
    ? { ok: true, deliveryId: value }
    : fail('delivery-id');
}

/** The id at a pointer into the verified JSON body; absent, or not a usable string/number: fail. */
export function deliveryIdAtPointer(body: DeliveryBody, pointer: JsonPointer): DeliveryIdResult {
  const found = keyAtPointer(body, pointer);
  return found.kind === 'found' ? { ok: true, deliveryId: found.value } : fail('delivery-id');
}
