/// Node configuration for the agent inside the image: the profile's `cluster` section baked into
/// the image, per-node rules matched by MAC address or DMI serial, and `cluster.*` kernel
/// parameters, in increasing precedence. Pure functions of those inputs and the machine's facts;
/// every resolved setting remembers where it came from (for `cluster status`).
public enum NodeConfig {}
