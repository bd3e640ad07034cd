/// Where media is stored (`STORAGE_TYPE`, reference section 4.5).
package enum MediaStorageConfiguration: Sendable, Equatable {
    /// Files under `path` (`STORAGE_LOCAL_PATH`, default `<DATA_DIR>/media`).
    case local(path: String)
    case s3(S3Configuration)
}

/// An S3 bucket (AWS, or any S3-compatible server at `endpoint`).
package struct S3Configuration: Sendable, Equatable {
    /// `S3_ENDPOINT` (`http://127.0.0.1:9000`); nil for AWS itself (`https://s3.<region>.amazonaws.com`).
    package var endpoint: String?
    package var bucket: String
    package var region: String
    package var accessKeyID: String
    package var secretAccessKey: String
    /// Path-style addressing (`<endpoint>/<bucket>/<key>`): on whenever an endpoint is set.
    package var pathStyle: Bool
    /// Objects larger than this go up as a multipart upload in parts of this size (5 MiB
    /// minimum, S3's rule for every part but the last).
    package var partSize: Int

    package init(
        endpoint: String?, bucket: String = "openwa", region: String = "us-east-1", accessKeyID: String,
        secretAccessKey: String, pathStyle: Bool? = nil, partSize: Int = 8 << 20
    ) {
        self.endpoint = endpoint
        self.bucket = bucket
        self.region = region
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.pathStyle = pathStyle ?? (endpoint != nil)
        self.partSize = max(5 << 20, partSize)
    }
}
