//! AWS Signature Version 4 for S3, header form: the one piece of the S3 protocol where a
//! mistake is silent until a real server refuses the request, so it lives apart and is checked
//! against AWS's published examples and botocore.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::hex;

pub(super) struct SigningRequest<'a> {
    pub(super) method: &'a str,
    /// Already URI-encoded, as sent.
    pub(super) canonical_uri: &'a str,
    pub(super) canonical_query: &'a str,
    /// Lower-case names, sorted by name; all of them are signed.
    pub(super) headers: &'a [(&'a str, &'a str)],
    pub(super) payload_hash: &'a str,
    /// `YYYYMMDDTHHMMSSZ`.
    pub(super) amz_date: &'a str,
    pub(super) region: &'a str,
    pub(super) access_key_id: &'a str,
    pub(super) secret_access_key: &'a str,
}

pub(super) fn authorization(req: &SigningRequest<'_>) -> String {
    let mut canonical_headers = String::new();
    for (name, value) in req.headers {
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(value.trim());
        canonical_headers.push('\n');
    }
    let signed_headers = req
        .headers
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{}",
        req.method, req.canonical_uri, req.canonical_query, req.payload_hash
    );
    let date = req.amz_date.get(..8).unwrap_or(req.amz_date);
    let scope = format!("{date}/{}/s3/aws4_request", req.region);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        req.amz_date,
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let key = [date, req.region, "s3", "aws4_request"].iter().fold(
        format!("AWS4{}", req.secret_access_key).into_bytes(),
        |key, part| hmac_sha256(&key, part.as_bytes()),
    );
    let signature = hex(&hmac_sha256(&key, string_to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        req.access_key_id
    )
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; this arm cannot run.
        Err(_) => return Vec::new(),
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

pub(super) fn amz_date(now: OffsetDateTime) -> String {
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// S3's URI encoding: everything but `A-Z a-z 0-9 - _ . ~` as `%XX`; `/` kept in object paths.
pub(super) fn uri_encode(text: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'_' | b'.' | b'~')
            || (byte == b'/' && !encode_slash);
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

pub(super) fn canonical_query(pairs: &[(&str, &str)]) -> String {
    let mut encoded: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (uri_encode(k, true), uri_encode(v, true)))
        .collect();
    encoded.sort();
    encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
    const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn signature(authorization: &str) -> &str {
        authorization
            .rsplit("Signature=")
            .next()
            .unwrap_or_default()
    }

    /// The worked examples of "Signature Calculations for the Authorization Header" in the S3
    /// API reference.
    #[test]
    fn signatures_match_the_aws_documentation_examples() {
        let get_object = authorization(&SigningRequest {
            method: "GET",
            canonical_uri: "/test.txt",
            canonical_query: "",
            headers: &[
                ("host", "examplebucket.s3.amazonaws.com"),
                ("range", "bytes=0-9"),
                ("x-amz-content-sha256", EMPTY_SHA256),
                ("x-amz-date", "20130524T000000Z"),
            ],
            payload_hash: EMPTY_SHA256,
            amz_date: "20130524T000000Z",
            region: "us-east-1",
            access_key_id: ACCESS_KEY,
            secret_access_key: SECRET_KEY,
        });
        assert_eq!(
            get_object,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );

        let body_hash = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
        let put_object = authorization(&SigningRequest {
            method: "PUT",
            canonical_uri: &format!("/{}", uri_encode("test$file.text", false)),
            canonical_query: "",
            headers: &[
                ("date", "Fri, 24 May 2013 00:00:00 GMT"),
                ("host", "examplebucket.s3.amazonaws.com"),
                ("x-amz-content-sha256", body_hash),
                ("x-amz-date", "20130524T000000Z"),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ],
            payload_hash: body_hash,
            amz_date: "20130524T000000Z",
            region: "us-east-1",
            access_key_id: ACCESS_KEY,
            secret_access_key: SECRET_KEY,
        });
        assert_eq!(
            signature(&put_object),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        );

        let lifecycle = authorization(&SigningRequest {
            method: "GET",
            canonical_uri: "/",
            canonical_query: &canonical_query(&[("lifecycle", "")]),
            headers: &[
                ("host", "examplebucket.s3.amazonaws.com"),
                ("x-amz-content-sha256", EMPTY_SHA256),
                ("x-amz-date", "20130524T000000Z"),
            ],
            payload_hash: EMPTY_SHA256,
            amz_date: "20130524T000000Z",
            region: "us-east-1",
            access_key_id: ACCESS_KEY,
            secret_access_key: SECRET_KEY,
        });
        assert_eq!(
            signature(&lifecycle),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"
        );

        let list_objects = authorization(&SigningRequest {
            method: "GET",
            canonical_uri: "/",
            canonical_query: &canonical_query(&[("prefix", "J"), ("max-keys", "2")]),
            headers: &[
                ("host", "examplebucket.s3.amazonaws.com"),
                ("x-amz-content-sha256", EMPTY_SHA256),
                ("x-amz-date", "20130524T000000Z"),
            ],
            payload_hash: EMPTY_SHA256,
            amz_date: "20130524T000000Z",
            region: "us-east-1",
            access_key_id: ACCESS_KEY,
            secret_access_key: SECRET_KEY,
        });
        assert_eq!(
            signature(&list_objects),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
        );
    }

    #[test]
    fn uri_encoding_follows_s3_rules() {
        let cases = [
            ("assets/u1/a.png", false, "assets/u1/a.png"),
            ("a b+c", false, "a%20b%2Bc"),
            ("x/ü~_-.", false, "x/%C3%BC~_-."),
            ("a/b", true, "a%2Fb"),
            ("a=b&c", true, "a%3Db%26c"),
        ];
        for (input, encode_slash, expected) in cases {
            assert_eq!(uri_encode(input, encode_slash), expected, "case {input:?}");
        }
    }

    #[test]
    fn the_canonical_query_is_sorted_and_keeps_empty_values() {
        assert_eq!(canonical_query(&[]), "");
        assert_eq!(canonical_query(&[("uploads", "")]), "uploads=");
        assert_eq!(
            canonical_query(&[("uploadId", "a/b+c="), ("partNumber", "2")]),
            "partNumber=2&uploadId=a%2Fb%2Bc%3D"
        );
    }

    #[test]
    fn amz_date_is_compact_utc() {
        let t = OffsetDateTime::from_unix_timestamp(1_369_353_600).expect("timestamp");
        assert_eq!(amz_date(t), "20130524T000000Z");
    }
}
