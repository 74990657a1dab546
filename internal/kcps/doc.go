// Package kcps is a small client for the KCPS ver1 API: Apache CloudStack
// 4.3 query API plus KDDI's own commands.
//
// It signs requests the way 4.3-era CloudStack clients do (sorted keys,
// Java-style URL encoding with spaces as %20, lower-cased, HMAC-SHA1, base64),
// decodes KCPS's loose JSON (numbers as strings, epoch-millisecond times,
// numeric interval types, empty list bodies), polls asynchronous jobs for as
// long as the caller's context allows with a back-off that stays cheap on a
// three-hour snapshot, retries idempotent calls only, pages lists, and
// serializes snapshot-creating work per account because KCPS refuses
// concurrent snapshot work.
//
// The package knows nothing of Terraform.
package kcps
