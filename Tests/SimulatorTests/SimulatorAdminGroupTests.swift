import Foundation
import Reactor
import Simulator
import Testing
import TestSupport

/// The admin routes for blocklists, group pictures and join approval, over HTTP as an outside
/// harness drives them; the wire side of each is covered through the gateway's REST tests.
@Suite(.timeLimit(.minutes(1))) struct SimulatorAdminGroupTests {
    @Test func blocklistsPicturesAndJoinRequestsOverHTTP() async throws {
        let fixture = try SimFixture.start()
        let port = fixture.simulator.adminPort
        func request(_ method: String, _ path: String, _ body: String? = nil) async throws -> TestResponse? {
            try await LoopbackClient.oneShot(port: port, method, path, body: body)
        }
        let (ann, ben) = ("15551230001", "15551230002")
        for phone in [ann, ben] { _ = try await fixture.simulator.createPhone(phone, pushName: phone) }

        #expect(try await request("PUT", "/admin/phones/\(ann)/blocklist", #"{"contact":"\#(ben)","blocked":true}"#)?.status == 204)
        #expect(try await request("GET", "/admin/phones/\(ann)/blocklist")?.json as? [String] == [ben])
        #expect(try await request("PUT", "/admin/phones/\(ann)/blocklist", #"{"contact":"\#(ann)","blocked":true}"#)?.status == 400)
        #expect(try await request("PUT", "/admin/phones/\(ann)/blocklist", #"{"contact":"19990000000","blocked":true}"#)?.status == 404)
        #expect(try await request("PUT", "/admin/phones/\(ann)/blocklist", #"{"contact":"\#(ben)","blocked":false}"#)?.status == 204)
        #expect(try await fixture.simulator.blocklist(of: ann) == [])

        let group = try await fixture.simulator.createGroup(by: ann, subject: "Gate", members: [])
        let image = Data([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]).base64EncodedString()
        #expect(try await request("PUT", "/admin/groups/\(group.id)/picture", #"{"actor":"\#(ben)","data":"\#(image)"}"#)?.status == 403)
        #expect(try await request("PUT", "/admin/groups/\(group.id)/picture", #"{"actor":"\#(ann)","data":"\#(image)"}"#)?.status == 204)
        let url = try #require(try await fixture.simulator.group(group.id).picture)
        #expect(try await fixture.simulator.picture(at: url) == [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3])
        #expect(try await request("PUT", "/admin/groups/\(group.id)/picture", #"{"actor":"\#(ann)","data":null}"#)?.status == 204)
        #expect(try await fixture.simulator.group(group.id).picture == nil)

        #expect(try await request("PUT", "/admin/groups/\(group.id)/approval", #"{"actor":"\#(ann)","on":true}"#)?.status == 204)
        let join = try await request("POST", "/admin/phones/\(ben)/groups/join", #"{"code":"\#(group.inviteCode)"}"#)
        #expect(join?.status == 200)
        #expect(join?.object["pending"] as? Bool == true)
        let snapshot = try await fixture.simulator.group(group.id)
        #expect(snapshot.joinApproval)
        #expect(snapshot.pendingRequests == [ben])
        #expect(snapshot.members.map(\.phone) == [ann])
        #expect(try await request("POST", "/admin/phones/\(ben)/groups/join", #"{"code":"\#(group.inviteCode)"}"#)?.status == 409)
        #expect(try await request("POST", "/admin/phones/\(ben)/groups/join", #"{"code":"nope"}"#)?.status == 406)
        await fixture.stop()
    }
}
