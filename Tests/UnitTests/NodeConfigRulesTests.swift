@testable import Agent
import Membership
import NodeConfig
@testable import Profile
import Testing

/// The `cluster` section's rules hold the same on the build and on the node.
@Suite struct NodeConfigRulesTests {
    @Test func theDefaultsAreTheMembershipProtocols() {
        let configuration = Membership.Configuration()
        #expect(configuration.protocolPeriod == .milliseconds(NodeConfig.Rules.defaultProtocolPeriodMs))
        #expect(configuration.probeTimeout == .milliseconds(NodeConfig.Rules.defaultProbeTimeoutMs))
        #expect(Agent.defaultPort == 7946 && Agent.defaultMulticastGroup == "239.255.76.66")
    }

    /// A protocol period below the default probe timeout was accepted by the build and refused
    /// by the agent at boot: now both refuse it.
    @Test func aPeriodShorterThanTheDefaultProbeTimeoutIsRefusedOnBothSides() {
        let timing = NodeConfig.Timing(protocolPeriodMs: 80)
        #expect(NodeConfig.Rules.timingProblem(timing)?.key == .protocolPeriodMs)
        #expect(throws: Agent.Failure.self) { try Agent.SettingsLoader.membershipConfiguration(timing) }
        #expect(throws: ProfileError.self) {
            try ProfileFixtures.load(#"{"name": "x", "base": {"debian": {}}, "cluster": {"timing": {"protocolPeriodMs": 80}}}"#)
        }
        #expect(NodeConfig.Rules.timingProblem(.init(protocolPeriodMs: 80, probeTimeoutMs: 40)) == nil)
    }

    @Test(arguments: [
        ("52:54:00:12:34:56", true), ("52-54-00-AB-CD-EF", true), ("52:54:00:12:34", false),
        ("52::54:00:12:34:56", false), ("52:54:00:12:34:56:", false), ("5g:54:00:12:34:56", false),
    ])
    func macAddresses(text: String, valid: Bool) {
        #expect(NodeConfig.Rules.isMAC(text) == valid)
    }

    @Test func valuesTheBuildRefusesTheNodeRefusesToo() {
        #expect(!NodeConfig.Rules.isIPv4("10.0.0.256") && !NodeConfig.Rules.isIPv4("10.0.0") && !NodeConfig.Rules.isIPv4("١٠.0.0.1"))
        #expect(NodeConfig.Rules.isIPv4WithPrefix("10.0.0.5/24") && !NodeConfig.Rules.isIPv4WithPrefix("10.0.0.5/33"))
        #expect(NodeConfig.Rules.isHostname("n1.lab") && !NodeConfig.Rules.isHostLabel("n1.lab"))
        #expect(!NodeConfig.Rules.isClusterName("lab.1") && NodeConfig.Rules.isClusterName("lab_1"))
        #expect(NodeConfig.Rules.normalizedMAC("52-54-00-AB-CD-EF") == "52:54:00:ab:cd:ef")
    }
}
