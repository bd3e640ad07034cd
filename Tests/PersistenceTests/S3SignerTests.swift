import Persistence
import Reactor
import Testing

/// Known answers from AWS's published Signature Version 4 examples.
@Suite("S3 SigV4 signer")
struct S3SignerTests {
    /// The "get-vanilla" case of AWS's SigV4 test suite (service "service", us-east-1).
    @Test func getVanilla() {
        let signer = S3Signer(
            accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", region: "us-east-1",
            service: "service")
        let canonical = S3Signer.canonicalRequest(
            method: "GET", path: "/", query: [],
            headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
            payloadHash: S3Signer.emptyPayloadHash)
        #expect(
            canonical.request == """
                GET
                /

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """)
        #expect(
            signer.stringToSign(amzDate: "20150830T123600Z", canonicalRequest: canonical.request) == """
                AWS4-HMAC-SHA256
                20150830T123600Z
                20150830/us-east-1/service/aws4_request
                bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63
                """)
        #expect(
            signer.authorization(
                method: "GET", path: "/", query: [],
                headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
                payloadHash: S3Signer.emptyPayloadHash, amzDate: "20150830T123600Z")
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                + "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    /// The signing-key derivation example of the SigV4 documentation (IAM, 2012-02-15).
    @Test func signingKeyDerivation() {
        let signer = S3Signer(
            accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", region: "us-east-1",
            service: "iam")
        #expect(
            Crypto.hex(signer.signingKey(date: "20120215"))
                == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    }

    /// S3's worked example "GET Object" (header-based authentication, a Range header).
    @Test func s3GetObjectExample() {
        let signer = S3Signer(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            region: "us-east-1")
        let authorization = signer.authorization(
            method: "GET", path: "/test.txt", query: [],
            headers: [
                ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
                ("x-amz-content-sha256", S3Signer.emptyPayloadHash), ("x-amz-date", "20130524T000000Z"),
            ],
            payloadHash: S3Signer.emptyPayloadHash, amzDate: "20130524T000000Z")
        #expect(
            authorization
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    /// S3's worked example of a presigned URL (query-string authentication, 86400 s).
    @Test func s3PresignedURLExample() {
        let signer = S3Signer(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            region: "us-east-1")
        let query = signer.presignedQuery(
            path: "/test.txt", host: "examplebucket.s3.amazonaws.com", amzDate: "20130524T000000Z", expiresSeconds: 86_400)
        #expect(query.hasSuffix("X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"))
        #expect(query.contains("X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"))
    }

    @Test func datesAndEncoding() {
        #expect(S3Signer.amzDate(epochSeconds: 1_440_938_160) == "20150830T123600Z")
        #expect(S3Signer.amzDate(epochSeconds: 951_782_400) == "20000229T000000Z")
        #expect(S3Signer.encode("a b/c~d+é", keepSlash: true) == "a%20b/c~d%2B%C3%A9")
        #expect(S3Signer.encode("a/b") == "a%2Fb")
        #expect(S3Signer.canonicalQuery([("uploadId", "x/y"), ("partNumber", "2")]) == "partNumber=2&uploadId=x%2Fy")
    }
}
